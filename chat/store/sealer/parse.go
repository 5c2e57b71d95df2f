package sealer

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
)

// Parse reads a key ring written as "id:key" entries, key being the
// standard base64 (padded or not) of KeySize bytes. Entries are separated
// by newlines or commas (commas suit an environment variable); blank
// entries and lines starting with '#' are ignored. The first entry is the
// active key. Errors name the entry by number and id, never a key.
func Parse(text string) (*Ring, error) {
	var ids []string
	var keys [][]byte
	n := 0
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, entry := range strings.Split(line, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			n++
			id, b64, ok := strings.Cut(entry, ":")
			if !ok {
				return nil, fmt.Errorf("sealer: key entry %d: want id:base64key", n)
			}
			k, err := decodeKey(strings.TrimSpace(b64))
			if err != nil {
				return nil, fmt.Errorf("sealer: key entry %d (id %q): not the base64 of %d bytes", n, strings.TrimSpace(id), KeySize)
			}
			ids, keys = append(ids, strings.TrimSpace(id)), append(keys, k)
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("sealer: no keys given")
	}
	return New(ids, keys)
}

func decodeKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		k, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err == nil && len(k) != KeySize {
		err = fmt.Errorf("%d bytes", len(k))
	}
	return k, err
}

// Load returns the ring in the file at path (see Parse) or, when path is
// "", in the value of environment variable env; nil when neither is set
// (encryption off). Setting both is an error: one place says which keys
// are in use.
func Load(path, env string) (*Ring, error) {
	fromEnv := os.Getenv(env)
	switch {
	case path != "" && fromEnv != "":
		return nil, fmt.Errorf("encryption keys: set the key file or %s, not both", env)
	case path != "":
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("encryption key file: %w", err)
		}
		r, err := Parse(string(data))
		if err != nil {
			return nil, fmt.Errorf("encryption key file %s: %w", path, err)
		}
		return r, nil
	case fromEnv != "":
		r, err := Parse(fromEnv)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", env, err)
		}
		return r, nil
	}
	return nil, nil
}

// Generate returns a new entry "id:key" with a random key, for a key file
// or the environment variable.
func Generate(id string) (string, error) {
	if !ValidID(id) {
		return "", fmt.Errorf("sealer: invalid key id %q: 1 to %d letters, digits, '.', '_' or '-'", id, MaxIDLen)
	}
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return "", err
	}
	return id + ":" + base64.StdEncoding.EncodeToString(k), nil
}
