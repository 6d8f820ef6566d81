;; The index check of parseHeader (header.ts) over one header blob copied into this module's memory:
;; the same rules in the same order, one entry at a time, with strings measured 16 bytes at a time.
;; It only says whether every entry passes; on the first that does not, header.ts reruns its own loop,
;; which names the problem. Assembled into header-index-wasm.ts by scripts/wat.mjs.
;;
;; Memory: bytes [0, declTags) hold each tag's declared type + 1 (0: no declared type); the caller puts
;; the index, the data store (followed by 16 spare bytes, so a 16-byte load never leaves memory) and
;; the output table where it likes.
(module
  (memory (export "memory") 1)

  ;; STRING (6), STRING_ARRAY (8), I18NSTRING (9).
  (func $isString (param $t i32) (result i32)
    (i32.or
      (i32.eq (local.get $t) (i32.const 6))
      (i32.or (i32.eq (local.get $t) (i32.const 8)) (i32.eq (local.get $t) (i32.const 9)))))

  ;; The offset just past the $count-th NUL at or after $p in the store [$d, $d + $n), or -1.
  (func $stringsEnd (param $d i32) (param $n i32) (param $p i32) (param $count i32) (result i32)
    (local $mask i32)
    (local $found i32)
    (block $none
      (loop $block
        (br_if $none (i32.ge_u (local.get $p) (local.get $n)))
        (local.set $mask
          (i8x16.bitmask
            (i8x16.eq
              (v128.load align=1 (i32.add (local.get $d) (local.get $p)))
              (v128.const i64x2 0 0))))
        ;; bytes past the store do not count
        (if (i32.lt_u (i32.sub (local.get $n) (local.get $p)) (i32.const 16))
          (then
            (local.set $mask
              (i32.and (local.get $mask)
                (i32.sub
                  (i32.shl (i32.const 1) (i32.sub (local.get $n) (local.get $p)))
                  (i32.const 1))))))
        (local.set $found (i32.popcnt (local.get $mask)))
        (if (i32.ge_u (local.get $found) (local.get $count))
          (then
            ;; drop the lowest $count - 1 NULs: the lowest left is the last one wanted
            (block $dropped
              (loop $drop
                (br_if $dropped (i32.le_u (local.get $count) (i32.const 1)))
                (local.set $mask (i32.and (local.get $mask) (i32.sub (local.get $mask) (i32.const 1))))
                (local.set $count (i32.sub (local.get $count) (i32.const 1)))
                (br $drop)))
            (return (i32.add (i32.add (local.get $p) (i32.ctz (local.get $mask))) (i32.const 1)))))
        (local.set $count (i32.sub (local.get $count) (local.get $found)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $block)))
    (i32.const -1))

  ;; Checks entries [$first, $il) of the index at $index against the data store [$d, $d + $dl) and writes
  ;; tag, type, offset, count, length (5 int32s, little-endian) per entry at $table. $trailerEnd is the
  ;; end of the region trailer, or -1 without a region; $typeCheck: check declared types (main headers).
  ;; Returns -1 when every entry passes, else the index of the first that does not.
  (func (export "checkIndex")
    (param $index i32) (param $il i32) (param $first i32) (param $d i32) (param $dl i32)
    (param $table i32) (param $typeCheck i32) (param $trailerEnd i32) (param $declTags i32)
    (result i32)
    (local $i i32) (local $entry v128) (local $tag i32) (local $type i32) (local $offset i32)
    (local $count i32) (local $length i32) (local $end i32) (local $declared i32) (local $size i32)
    (local.set $i (local.get $first))
    (block $bad
      (loop $entry
        (if (i32.ge_u (local.get $i) (local.get $il)) (then (return (i32.const -1))))
        ;; the entry's four big-endian words, byte-swapped at once
        (local.set $entry
          (i8x16.shuffle 3 2 1 0 7 6 5 4 11 10 9 8 15 14 13 12
            (v128.load align=1 (i32.add (local.get $index) (i32.shl (local.get $i) (i32.const 4))))
            (v128.const i64x2 0 0)))
        (local.set $tag (i32x4.extract_lane 0 (local.get $entry)))
        (local.set $type (i32x4.extract_lane 1 (local.get $entry)))
        (local.set $offset (i32x4.extract_lane 2 (local.get $entry)))
        (local.set $count (i32x4.extract_lane 3 (local.get $entry)))
        ;; tag outside 100..2147483647 (signed: the upper half is negative)
        (br_if $bad (i32.lt_s (local.get $tag) (i32.const 100)))
        (br_if $bad (i32.gt_u (local.get $type) (i32.const 9)))
        (br_if $bad (i32.eqz (local.get $count)))
        (br_if $bad (i32.gt_u (local.get $count) (local.get $dl)))
        (br_if $bad (i32.lt_s (local.get $offset) (i32.const 0)))
        (br_if $bad (i32.gt_s (local.get $offset) (local.get $dl)))
        ;; alignment: INT16 2, INT32 4, INT64 8
        (br_if $bad
          (i32.and (local.get $offset)
            (select (i32.const 1)
              (select (i32.const 3)
                (select (i32.const 7) (i32.const 0) (i32.eq (local.get $type) (i32.const 5)))
                (i32.eq (local.get $type) (i32.const 4)))
              (i32.eq (local.get $type) (i32.const 3)))))
        (br_if $bad
          (i32.and (i32.ne (local.get $type) (i32.const 7)) (i32.gt_u (local.get $count) (i32.const 0xfffff))))
        (if (i32.and (local.get $typeCheck) (i32.lt_u (local.get $tag) (local.get $declTags)))
          (then
            (local.set $declared (i32.load8_u (local.get $tag)))
            (if (local.get $declared)
              (then
                (local.set $declared (i32.sub (local.get $declared) (i32.const 1)))
                (br_if $bad
                  (i32.and
                    (i32.ne (local.get $declared) (local.get $type))
                    (i32.eqz
                      (i32.and (call $isString (local.get $declared)) (call $isString (local.get $type))))))))))
        ;; values are in index order: none starts inside the previous one
        (br_if $bad (i32.lt_s (local.get $offset) (local.get $end)))
        (if (call $isString (local.get $type))
          (then
            (br_if $bad
              (i32.and (i32.eq (local.get $type) (i32.const 6)) (i32.ne (local.get $count) (i32.const 1))))
            (local.set $length
              (call $stringsEnd (local.get $d) (local.get $dl) (local.get $offset) (local.get $count)))
            (br_if $bad (i32.lt_s (local.get $length) (i32.const 0)))
            (local.set $length (i32.sub (local.get $length) (local.get $offset))))
          (else
            ;; NULL 0, CHAR 1, INT8 1, INT16 2, INT32 4, INT64 8, BIN 1
            (local.set $size
              (select (i32.const 0)
                (select (i32.const 2)
                  (select (i32.const 4)
                    (select (i32.const 8) (i32.const 1) (i32.eq (local.get $type) (i32.const 5)))
                    (i32.eq (local.get $type) (i32.const 4)))
                  (i32.eq (local.get $type) (i32.const 3)))
                (i32.eqz (local.get $type))))
            ;; count <= dl <= 0x0fffffff: the product fits, and so does the sum (unsigned)
            (local.set $length (i32.mul (local.get $size) (local.get $count)))
            (br_if $bad (i32.gt_u (i32.add (local.get $offset) (local.get $length)) (local.get $dl)))
            (br_if $bad (i32.eqz (local.get $length)))))
        ;; no value may overlap the region trailer
        (br_if $bad
          (i32.and
            (i32.ge_s (local.get $trailerEnd) (i32.const 0))
            (i32.and
              (i32.gt_s
                (i32.add (local.get $offset) (local.get $length))
                (i32.sub (local.get $trailerEnd) (i32.const 16)))
              (i32.lt_s (local.get $offset) (local.get $trailerEnd)))))
        (local.set $end (i32.add (local.get $offset) (local.get $length)))
        (i32.store (local.get $table) (local.get $tag))
        (i32.store offset=4 (local.get $table) (local.get $type))
        (i32.store offset=8 (local.get $table) (local.get $offset))
        (i32.store offset=12 (local.get $table) (local.get $count))
        (i32.store offset=16 (local.get $table) (local.get $length))
        (local.set $table (i32.add (local.get $table) (i32.const 20)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $entry)))
    (local.get $i))
)
