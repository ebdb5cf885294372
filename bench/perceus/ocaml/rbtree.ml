(* rbtree and rbtree-ck in OCaml: Koka's test/bench/koka/rbtree.kk and
   rbtree-ck.kk (after Lean's rbmap.ml).

     rbtree N         inserts N-1 .. 0 and counts the true values (rbtree.kk)
     rbtree N FREQ    inserts N .. 1, keeping every FREQ-th tree (rbtree-ck.kk) *)

type color = Red | Black

type tree = Leaf | Node of color * tree * int * bool * tree

let is_red = function Node (Red, _, _, _, _) -> true | _ -> false

let balance_left l k v r =
  match l with
  | Leaf -> Leaf
  | Node (_, Node (Red, lx, kx, vx, rx), ky, vy, ry) ->
      Node (Red, Node (Black, lx, kx, vx, rx), ky, vy, Node (Black, ry, k, v, r))
  | Node (_, ly, ky, vy, Node (Red, lx, kx, vx, rx)) ->
      Node (Red, Node (Black, ly, ky, vy, lx), kx, vx, Node (Black, rx, k, v, r))
  | Node (_, lx, kx, vx, rx) -> Node (Black, Node (Red, lx, kx, vx, rx), k, v, r)

let balance_right l k v r =
  match r with
  | Leaf -> Leaf
  | Node (_, Node (Red, lx, kx, vx, rx), ky, vy, ry) ->
      Node (Red, Node (Black, l, k, v, lx), kx, vx, Node (Black, rx, ky, vy, ry))
  | Node (_, lx, kx, vx, Node (Red, ly, ky, vy, ry)) ->
      Node (Red, Node (Black, l, k, v, lx), kx, vx, Node (Black, ly, ky, vy, ry))
  | Node (_, lx, kx, vx, rx) -> Node (Black, l, k, v, Node (Red, lx, kx, vx, rx))

let rec ins t k v =
  match t with
  | Leaf -> Node (Red, Leaf, k, v, Leaf)
  | Node (Red, l, kx, vx, r) ->
      if k < kx then Node (Red, ins l k v, kx, vx, r)
      else if k = kx then Node (Red, l, k, v, r)
      else Node (Red, l, kx, vx, ins r k v)
  | Node (Black, l, kx, vx, r) ->
      if k < kx then
        if is_red l then balance_left (ins l k v) kx vx r
        else Node (Black, ins l k v, kx, vx, r)
      else if k = kx then Node (Black, l, k, v, r)
      else if is_red r then balance_right l kx vx (ins r k v)
      else Node (Black, l, kx, vx, ins r k v)

let set_black = function Node (_, l, k, v, r) -> Node (Black, l, k, v, r) | t -> t

let insert t k v = if is_red t then set_black (ins t k v) else ins t k v

let rec fold t acc =
  match t with
  | Leaf -> acc
  | Node (_, l, _, v, r) -> fold r ((if v then 1 else 0) + fold l acc)

let () =
  let n = if Array.length Sys.argv > 1 then int_of_string Sys.argv.(1) else 4200000 in
  let t =
    if Array.length Sys.argv > 2 then begin
      let freq = int_of_string Sys.argv.(2) in
      let rec go i t acc =
        if i <= 0 then t :: acc
        else
          let t' = insert t i (i mod 10 = 0) in
          go (i - 1) t' (if i mod freq = 0 then t' :: acc else acc)
      in
      List.hd (go n Leaf [])
    end else begin
      let rec go i t = if i <= 0 then t else go (i - 1) (insert t (i - 1) ((i - 1) mod 10 = 0)) in
      go n Leaf
    end
  in
  Printf.printf "%d\n" (fold t 0)
