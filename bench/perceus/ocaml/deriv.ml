(* deriv in OCaml: Koka's test/bench/koka/deriv.kk (after Lean's deriv.ml).

     deriv N    the node counts of the first N derivatives of x^x, then "done". *)

type expr =
  | Val of int
  | Var of string
  | Add of expr * expr
  | Mul of expr * expr
  | Pow of expr * expr
  | Ln of expr

let pown a b =
  let rec go r b = if b > 0 then go (r * a) (b - 1) else r in
  if b < 0 then 0 else go 1 b

let rec add n0 m0 =
  match (n0, m0) with
  | Val n, Val m -> Val (n + m)
  | Val 0, f -> f
  | f, Val 0 -> f
  | f, Val n -> add (Val n) f
  | Val n, Add (Val m, f) -> add (Val (n + m)) f
  | f, Add (Val n, g) -> add (Val n) (add f g)
  | Add (f, g), h -> add f (add g h)
  | f, g -> Add (f, g)

let rec mul n0 m0 =
  match (n0, m0) with
  | Val n, Val m -> Val (n * m)
  | Val 0, _ -> Val 0
  | _, Val 0 -> Val 0
  | Val 1, f -> f
  | f, Val 1 -> f
  | f, Val n -> mul (Val n) f
  | Val n, Mul (Val m, f) -> mul (Val (n * m)) f
  | f, Mul (Val n, g) -> mul (Val n) (mul f g)
  | Mul (f, g), h -> mul f (mul g h)
  | f, g -> Mul (f, g)

let powr m0 n0 =
  match (m0, n0) with
  | Val m, Val n -> Val (pown m n)
  | _, Val 0 -> Val 1
  | f, Val 1 -> f
  | Val 0, _ -> Val 0
  | f, g -> Pow (f, g)

let ln = function Val 1 -> Val 0 | f -> Ln f

let rec d x e =
  match e with
  | Val _ -> Val 0
  | Var y -> if x = y then Val 1 else Val 0
  | Add (f, g) ->
      let df = d x f in
      add df (d x g)
  | Mul (f, g) ->
      let p = mul f (d x g) in
      add p (mul g (d x f))
  | Pow (f, g) ->
      let p = powr f g in
      let q = mul g (d x f) in
      let q = mul q (powr f (Val (-1))) in
      let lf = ln f in
      let s = mul lf (d x g) in
      mul p (add q s)
  | Ln f ->
      let df = d x f in
      mul df (powr f (Val (-1)))

let rec count = function
  | Val _ | Var _ -> 1
  | Add (f, g) | Mul (f, g) | Pow (f, g) -> count f + count g
  | Ln f -> count f

let () =
  let n = if Array.length Sys.argv > 1 then int_of_string Sys.argv.(1) else 10 in
  let x = Var "x" in
  let f = ref (powr x x) in
  for i = 0 to n - 1 do
    let df = d "x" !f in
    Printf.printf "%d count: %d\n" (i + 1) (count df);
    f := df
  done;
  print_endline "done"
