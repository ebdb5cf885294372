/* each_policy.h — a test body written once for a policy P, included for every
 * building-block combination of the test specs (SingleThreaded, ThreadSafe,
 * Local, Frozen). Define EACH_POLICY_BODY as the body's header name, then
 * include this; XCAT/XCAT3 paste names (XCAT3(Managed_Num, P, new)). */
#ifndef EACH_POLICY_PASTE
#define EACH_POLICY_PASTE
#define XCAT_(a, b) a##_##b
#define XCAT(a, b) XCAT_(a, b)
#define XCAT3_(a, b, c) a##_##b##_##c
#define XCAT3(a, b, c) XCAT3_(a, b, c)
#endif

#define P SingleThreaded
#include EACH_POLICY_BODY
#undef P
#define P ThreadSafe
#include EACH_POLICY_BODY
#undef P
#define P Local
#include EACH_POLICY_BODY
#undef P
#define P Frozen
#include EACH_POLICY_BODY
#undef P
#undef EACH_POLICY_BODY
