// binarytrees in C++: Koka's test/bench/koka/binarytrees.kk (the Computer
// Language Benchmarks Game's) with nodes owned by std::unique_ptr.
//
//   binarytrees N    max depth N (min depth 4): the stretch tree, 2^(N+4-d)
//                    trees of each depth d = 4, 6, .. <= N, the long-lived tree.
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace {

struct Node {
    std::unique_ptr<Node> left, right;
};

std::unique_ptr<Node> make(long depth) {
    auto t = std::make_unique<Node>();
    if (depth > 0) {
        t->left = make(depth - 1);
        t->right = make(depth - 1);
    }
    return t;
}

long check(const Node *t) { return t ? 1 + check(t->left.get()) + check(t->right.get()) : 0; }

}  // namespace

int main(int argc, char **argv) {
    long n = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 21;
    long min_depth = 4, max_depth = n > min_depth + 2 ? n : min_depth + 2;
    long stretch = max_depth + 1;
    std::printf("stretch tree of depth %ld\t check: %ld\n", stretch, check(make(stretch).get()));
    auto long_lived = make(max_depth);
    for (long d = min_depth; d <= max_depth; d += 2) {
        long count = 1L << (max_depth + min_depth - d);
        long csum = 0;
        for (long i = 0; i < count; i++) {
            csum += check(make(d).get());
        }
        std::printf("%ld\t trees of depth %ld\t check: %ld\n", count, d, csum);
    }
    std::printf("long lived tree of depth %ld\t check: %ld\n", max_depth, check(long_lived.get()));
    return 0;
}
