package crisis

import "encoding/binary"

// The vocabulary: every word of the lexicon has an integer id, and a token
// is resolved to its id by one hash probe whatever way it was spelled. The
// vowel-dropped forms of the devowel words and the misspellings one edit
// away from the fuzzy words are precomputed as aliases.

type fuzzyWord struct {
	w   string
	id  int32
	bag uint32
}

type devowelWord struct {
	w  string
	id int32
}

// hashTable is an open-addressing hash from token spelling to word id. A
// slot holds what a probe needs in 16 bytes: the key's first 8 bytes (all
// of it for most words: tokens hold no zero byte, so the zero padding
// tells lengths apart), the hash and the id; keys longer than 8 bytes are
// checked against long.
type hashTable struct {
	slots []tabSlot
	long  []string // per slot: the key, when longer than 8 bytes
	mask  uint32
}

type tabSlot struct {
	head uint64 // the key's first 8 bytes, little-endian, zero-padded
	h    uint32
	id   int32 // word id + 1; 0 = empty
}

func newHashTable(keys []string, ids []int32) hashTable {
	size := 16
	for size*5 < len(keys)*8 { // load factor at most 0.625
		size <<= 1
	}
	t := hashTable{slots: make([]tabSlot, size), long: make([]string, size), mask: uint32(size - 1)}
	for e, k := range keys {
		h, head := wordKey([]byte(k))
		i := h & t.mask
		for t.slots[i].id != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = tabSlot{head: head, h: h, id: ids[e] + 1}
		if len(k) > 8 {
			t.long[i] = k
		}
	}
	return t
}

// get returns the id stored for b (whose wordKey is h, head), or -1.
func (t *hashTable) get(b []byte, h uint32, head uint64) int32 {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		sl := &t.slots[i]
		if sl.id == 0 {
			return -1
		}
		if sl.h == h && sl.head == head && (len(b) <= 8 || t.long[i] == string(b)) {
			return sl.id - 1
		}
	}
}

const (
	hashK1 = 0x9e3779b97f4a7c15
	hashK2 = 0xff51afd7ed558ccd
	hashK3 = 0xc4ceb9fe1a85ec53
)

// hashHead hashes a key of n <= 8 bytes held in head.
func hashHead(head uint64, n int) uint32 {
	x := (head ^ uint64(n)*hashK1) * hashK2
	x = (x ^ x>>32) * hashK3
	return uint32(x >> 32)
}

// wordKey hashes a token for the vocabulary tables, eight bytes at a time
// (most words are one integer), and returns its first eight bytes.
func wordKey(b []byte) (h uint32, head uint64) {
	n := len(b)
	if n >= 8 {
		head = binary.LittleEndian.Uint64(b)
	} else {
		for i := n - 1; i >= 0; i-- {
			head = head<<8 | uint64(b[i])
		}
	}
	if n <= 8 {
		return hashHead(head, n), head
	}
	x := (head ^ uint64(n)*hashK1) * hashK2
	for rest := b[8:]; len(rest) > 0; {
		var c uint64
		if len(rest) >= 8 {
			c, rest = binary.LittleEndian.Uint64(rest), rest[8:]
		} else {
			for i := len(rest) - 1; i >= 0; i-- {
				c = c<<8 | uint64(rest[i])
			}
			rest = nil
		}
		x = (x ^ x>>32 ^ c) * hashK2
	}
	x = (x ^ x>>32) * hashK3
	return uint32(x >> 32), head
}

func (cl *compiled) buildTable() {
	ids := make([]int32, len(cl.words))
	for id := range ids {
		ids[id] = int32(id)
	}
	cl.vocabTab = newHashTable(cl.words, ids)
	var akeys []string
	var aids []int32
	seen := map[string]bool{}
	add := func(key string, id int32) {
		if _, word := cl.vocab[key]; !word && !seen[key] {
			seen[key] = true
			akeys, aids = append(akeys, key), append(aids, id)
		}
	}
	for _, d := range cl.devowel {
		for _, v := range devowelForms(d.w) {
			add(v, d.id)
		}
	}
	for _, f := range cl.fuzzy {
		for _, v := range oneEditForms(f.w) {
			add(v, f.id)
		}
	}
	// The g dropped from the lexicon's -ing words, as many Englishes
	// write them: "killin", "thinkin", "burnin", "usin".
	for id, w := range cl.words {
		if len(w) >= 6 && w[len(w)-3:] == "ing" {
			add(w[:len(w)-1], int32(id))
		}
	}
	cl.aliasTab = newHashTable(akeys, aids)
}

func isVowel(c byte) bool { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' }

// devowelForms lists the spellings of w (normalised) with some of its
// vowels left out, first letter kept: "kil" -> "kl", "myself" -> "myslf",
// "suicide" -> "sucide", "sucde", ... Forms shorter than 3/5 of the word
// (or than 2 letters) are not kept: "scd" is not "suicide".
func devowelForms(w string) []string {
	var pos []int
	for i := 1; i < len(w); i++ {
		if isVowel(w[i]) {
			pos = append(pos, i)
		}
	}
	if len(pos) > 10 {
		pos = pos[:10]
	}
	var out []string
	buf := make([]byte, 0, len(w))
	for mask := 1; mask < 1<<len(pos); mask++ {
		buf = buf[:0]
		k := 0
		for i := 0; i < len(w); i++ {
			if k < len(pos) && pos[k] == i {
				drop := mask&(1<<k) != 0
				k++
				if drop {
					continue
				}
			}
			buf = append(buf, w[i])
		}
		n := squeezeInPlace(buf)
		if n < 2 || 5*n < 3*len(w) {
			continue
		}
		out = append(out, string(buf[:n]))
	}
	return out
}

// oneEditForms lists the strings of 4 letters or more one edit away from w
// (a deletion, an insertion, a substitution or a swap of neighbours): the
// misspellings a fuzzy word also matches.
func oneEditForms(w string) []string {
	var out []string
	keep := func(b []byte) {
		if len(b) >= 4 && within1(b, w) {
			out = append(out, string(b))
		}
	}
	b := make([]byte, 0, len(w)+1)
	for i := 0; i < len(w); i++ {
		keep(append(append(b[:0], w[:i]...), w[i+1:]...)) // deletion
		if i+1 < len(w) {
			b = append(b[:0], w...)
			b[i], b[i+1] = b[i+1], b[i]
			keep(b) // swap
		}
	}
	for i := 0; i <= len(w); i++ {
		for c := byte('a'); c <= 'z'; c++ {
			keep(append(append(append(b[:0], w[:i]...), c), w[i:]...)) // insertion
			if i < len(w) && c != w[i] {
				b = append(b[:0], w...)
				b[i] = c
				keep(b) // substitution
			}
		}
	}
	return out
}

// lookup resolves a token (normalised bytes) to a word id, or -1.
func (cl *compiled) lookup(b []byte) int32 {
	if cl.vocabTab.slots == nil {
		return -1 // normWords' bare compiled: no vocabulary yet
	}
	h, head := wordKey(b)
	if id := cl.vocabTab.get(b, h, head); id >= 0 {
		return id
	}
	return cl.aliasTab.get(b, h, head)
}

// lookupAt is lookup for norm[s:e]. A token of up to 8 bytes is read as
// one integer straight from the buffer, whose spare capacity pads the last.
func (cl *compiled) lookupAt(norm []byte, s, e int32) int32 {
	if cl.vocabTab.slots == nil {
		return -1 // normWords' bare compiled: no vocabulary yet
	}
	n := e - s
	if n < 1 || n > 8 || int(s)+8 > cap(norm) {
		return cl.lookup(norm[s:e])
	}
	head := binary.LittleEndian.Uint64(norm[s:cap(norm)]) & (^uint64(0) >> ((64 - 8*n) & 63))
	b := norm[s:e]
	h := hashHead(head, len(b))
	if id := cl.vocabTab.get(b, h, head); id >= 0 {
		return id
	}
	return cl.aliasTab.get(b, h, head)
}

func letterBag(w string) uint32 {
	var bag uint32
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= 'a' && c <= 'z' {
			bag |= 1 << (c - 'a')
		}
	}
	return bag
}

// within1 reports whether a and b are at most one edit apart, counting a
// swap of two neighbouring letters as one edit (Damerau).
func within1(a []byte, b string) bool {
	la, lb := len(a), len(b)
	i := 0
	for i < la && i < lb && a[i] == b[i] {
		i++
	}
	switch la - lb {
	case 0:
		if i == la {
			return true
		}
		if string(a[i+1:]) == b[i+1:] {
			return true
		}
		return i+1 < la && a[i] == b[i+1] && a[i+1] == b[i] && string(a[i+2:]) == b[i+2:]
	case 1:
		return string(a[i+1:]) == b[i:]
	case -1:
		return string(a[i:]) == b[i+1:]
	}
	return false
}
