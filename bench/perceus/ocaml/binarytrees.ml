(* binarytrees in OCaml: Koka's test/bench/koka/binarytrees.kk (the Computer
   Language Benchmarks Game's), on one core (OCaml 4 has no parallel domains).

     binarytrees N    max depth N (min depth 4): the stretch tree, 2^(N+4-d)
                      trees of each depth d = 4, 6, .. <= N, the long-lived tree. *)

type tree = Node of tree * tree | Tip

let rec make d =
  if d > 0 then
    let l = make (d - 1) in
    Node (l, make (d - 1))
  else Node (Tip, Tip)

let rec check = function Node (l, r) -> 1 + check l + check r | Tip -> 0

let () =
  let n = if Array.length Sys.argv > 1 then int_of_string Sys.argv.(1) else 21 in
  let min_depth = 4 in
  let max_depth = max (min_depth + 2) n in
  let stretch = max_depth + 1 in
  Printf.printf "stretch tree of depth %d\t check: %d\n" stretch (check (make stretch));
  let long_lived = make max_depth in
  let d = ref min_depth in
  while !d <= max_depth do
    let count = 1 lsl (max_depth + min_depth - !d) in
    let csum = ref 0 in
    for _ = 1 to count do
      csum := !csum + check (make !d)
    done;
    Printf.printf "%d\t trees of depth %d\t check: %d\n" count !d !csum;
    d := !d + 2
  done;
  Printf.printf "long lived tree of depth %d\t check: %d\n" max_depth (check long_lived)
