package cluster

import "math/bits"

// rankBits is the set of order keys alive at a level, with a rank query:
// the number of alive keys below a key is the item's index in supercluster's
// array for that level, which cluster ids are made of. Clearing the keys of
// absorbed items turns one level's set into the next; counts are rebuilt once
// per level in O(keys/64).
type rankBits struct {
	words  []uint64
	blocks []int64 // set bits before each block of 8 words
}

func newRankBits(n int) *rankBits {
	rb := &rankBits{}
	rb.reset(n)
	return rb
}

// reset makes the set [0, n).
func (rb *rankBits) reset(n int) {
	nw := (n + 63) / 64
	rb.words = grow(&rb.words, nw)
	for i := range rb.words {
		rb.words[i] = ^uint64(0)
	}
	if n%64 != 0 {
		rb.words[nw-1] = 1<<(n%64) - 1
	}
	rb.rebuild()
}

// clear removes key k. It is not safe for concurrent use: neighbouring keys
// share a word.
func (rb *rankBits) clear(k int32) { rb.words[k>>6] &^= uint64(1) << (uint(k) & 63) }

func (rb *rankBits) rebuild() {
	nb := (len(rb.words) + 7) / 8
	if cap(rb.blocks) < nb {
		rb.blocks = make([]int64, nb)
	}
	rb.blocks = rb.blocks[:nb]
	var sum int64
	for b := range nb {
		rb.blocks[b] = sum
		for _, w := range rb.words[b*8 : min(b*8+8, len(rb.words))] {
			sum += int64(bits.OnesCount64(w))
		}
	}
}

// rank returns the number of keys in the set below k.
func (rb *rankBits) rank(k int32) int64 {
	w := int(k >> 6)
	r := rb.blocks[w>>3]
	for i := w &^ 7; i < w; i++ {
		r += int64(bits.OnesCount64(rb.words[i]))
	}
	return r + int64(bits.OnesCount64(rb.words[w]&(1<<(uint(k)&63)-1)))
}
