// Package tlswrite hands gathered pieces to crypto/tls without joining
// them first.
//
// crypto/tls copies each Write's bytes into its record buffer and seals them
// there, a record of at most 16 KiB of plaintext at a time. Joining a
// request's pieces (a 4 MiB Produce request whose values are pieces of their
// own) into one buffer before that is a second copy, into memory too large
// to stay in the CPU's caches, which crypto/tls then reads back. Pieces
// instead pass through one record-sized staging buffer that stays in cache,
// and runs of whole records inside a large piece go to crypto/tls as they
// are. Either way crypto/tls gets whole records' worth of plaintext per
// Write, so the records on the wire are the ones a joined Write makes.
package tlswrite

// Record is the most plaintext crypto/tls puts in one record.
const Record = 16 << 10

// Pieces calls write with the bytes of bufs in order, in chunks of whole
// records (the last excepted) of at most max bytes (a multiple of Record;
// zero for no limit). stage is the staging buffer, allocated on first use
// and kept by the caller for the next call. It stops at write's first error.
func Pieces(bufs [][]byte, stage *[]byte, max int, write func([]byte) error) error {
	if *stage == nil {
		*stage = make([]byte, 0, Record)
	}
	st := (*stage)[:0]
	for _, b := range bufs {
		for len(b) > 0 {
			if len(st) == 0 && len(b) >= Record {
				k := len(b) &^ (Record - 1)
				if max > 0 {
					k = min(k, max)
				}
				if err := write(b[:k]); err != nil {
					return err
				}
				b = b[k:]
				continue
			}
			k := copy(st[len(st):Record], b)
			st = st[:len(st)+k]
			b = b[k:]
			if len(st) == Record {
				if err := write(st); err != nil {
					return err
				}
				st = st[:0]
			}
		}
	}
	if len(st) > 0 {
		return write(st)
	}
	return nil
}
