// rbtree in C++: Koka's test/bench/koka/rbtree.kk with std::map (a red-black
// tree updated in place), as the Perceus paper compares.
//
//   rbtree N    inserts N-1 .. 0 (key % 10 == 0 -> true), prints how many
//               values are true.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>

int main(int argc, char **argv) {
    long n = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 4200000;
    std::map<int32_t, bool> m;
    for (long i = n; i > 0; i--) {
        auto k = static_cast<int32_t>(i - 1);
        m.insert_or_assign(k, k % 10 == 0);
    }
    long count = 0;
    for (const auto &kv : m) {
        count += kv.second ? 1 : 0;
    }
    std::printf("%ld\n", count);
    return 0;
}
