package sqlstore

import (
	"fmt"

	"github.com/kindred-health/kindred/chat/store/sealer"
)

// An escalation's snapshot of the conversation (message and context) and
// the crisis text its evidence quotes are sealed with the store's keys,
// all three with the row's one key_id; categories and the other columns
// are not (see docs/security.md#data-at-rest).

// escSealed lists the sealed columns of j, each with its column name for
// the associated data.
func (j *escJSON) escSealed() [3]struct {
	name string
	v    *string
} {
	return [3]struct {
		name string
		v    *string
	}{{"escalations.evidence", &j.evid}, {"escalations.message", &j.msg}, {"escalations.context", &j.ctx}}
}

// seal returns j with its snapshot sealed for escalation id with the
// active key of keys (as it is, and keyID "", when keys is nil).
func (j escJSON) seal(keys *sealer.Ring, id string) (escJSON, error) {
	j.keyID = keys.Active()
	var ad []byte
	for _, c := range j.escSealed() {
		ad = sealer.AD(ad[:0], c.name, id, 0)
		var err error
		if _, *c.v, err = keys.Seal(*c.v, ad); err != nil {
			return j, err
		}
	}
	return j, nil
}

// open opens in place the snapshot of escalation id, sealed with key
// j.keyID (nothing to do when it is "").
func (j *escJSON) open(keys *sealer.Ring, id string) error {
	if j.keyID == "" {
		return nil
	}
	var ad []byte
	for _, c := range j.escSealed() {
		ad = sealer.AD(ad[:0], c.name, id, 0)
		v, err := keys.Open(j.keyID, *c.v, ad)
		if err != nil {
			return fmt.Errorf("escalation %s: %w", id, err)
		}
		*c.v = v
	}
	return nil
}
