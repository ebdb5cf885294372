// nqueens in C++: Koka's test/bench/koka/nqueens.kk. A partial solution is a
// persistent list (immutable cells held by std::shared_ptr, so the solutions
// extending it share it); the solutions of a row are a std::vector.
//
//   nqueens N    the number of solutions of the N-queens problem.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

namespace {

struct Cons;
using List = std::shared_ptr<const Cons>;

struct Cons {
    int32_t head;
    List tail;
};

bool safe(int32_t queen, int32_t diag, const Cons *xs) {
    for (; xs; xs = xs->tail.get(), diag++) {
        if (queen == xs->head || queen == xs->head + diag || queen == xs->head - diag) {
            return false;
        }
    }
    return true;
}

std::vector<List> find_solutions(int32_t n, int32_t queen) {
    if (queen == 0) {
        return {List{}};
    }
    std::vector<List> acc;
    for (const List &xs : find_solutions(n, queen - 1)) {
        for (int32_t q = n; q > 0; q--) {
            if (safe(q, 1, xs.get())) {
                acc.push_back(std::make_shared<const Cons>(Cons{q, xs}));
            }
        }
    }
    return acc;
}

}  // namespace

int main(int argc, char **argv) {
    auto n = static_cast<int32_t>(argc > 1 ? std::strtol(argv[1], nullptr, 10) : 13);
    std::printf("%zu\n", find_solutions(n, n).size());
    return 0;
}
