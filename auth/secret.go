package auth

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// secretFileName is the HMAC secret's file name inside the data directory.
const secretFileName = "jwt-secret"

// LoadOrCreateSecret returns the HS256 secret kept in <dataDir>/jwt-secret,
// creating it on first use: 32 bytes from crypto/rand, stored hex-encoded in
// a file with mode 0600 (dataDir is created with mode 0700 if missing).
//
// An existing file is never replaced. If it is unreadable, not hex, or holds
// fewer than 32 bytes, LoadOrCreateSecret returns an error: replacing it
// would silently log every user out and hide whatever damaged it. Operators
// may put their own longer hex secret there; surrounding whitespace is
// ignored.
func LoadOrCreateSecret(dataDir string) ([]byte, error) {
	return LoadOrCreateKeyFile(dataDir, secretFileName)
}

// LoadOrCreateKeyFile is LoadOrCreateSecret for another secret of the
// node, kept in <dataDir>/<name> (the audit log's key, say), with the
// same rules.
func LoadOrCreateKeyFile(dataDir, name string) ([]byte, error) {
	if dataDir == "" {
		return nil, errors.New("auth: no data directory given for " + name)
	}
	path := filepath.Join(dataDir, name)
	secret, err := readSecret(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return secret, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: creating data directory: %w", err)
	}
	secret = make([]byte, minHMACSecret)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("auth: generating %s: %w", name, err)
	}
	switch err := publishOnce(path, []byte(hex.EncodeToString(secret)+"\n")); {
	case err == nil:
		return secret, nil
	case errors.Is(err, fs.ErrExist):
		// Another process started at the same moment and won; use its
		// secret so both agree.
		return readSecret(path)
	default:
		return nil, err
	}
}

func readSecret(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("auth: reading %s: %w", path, err)
	}
	// The file's contents are never put in an error message: it is a secret.
	secret, err := hex.DecodeString(string(bytes.TrimSpace(data)))
	if err != nil {
		return nil, fmt.Errorf("auth: secret file %s is not valid hex; fix or remove it (removing %s signs everyone out; removing another key breaks what it protects)", path, secretFileName)
	}
	if len(secret) < minHMACSecret {
		return nil, fmt.Errorf("auth: secret file %s holds %d bytes; at least %d are required", path, len(secret), minHMACSecret)
	}
	return secret, nil
}

// publishOnce atomically creates path with contents, failing with an error
// that matches fs.ErrExist if path already exists. The data is written to a
// temporary file and hard-linked into place so that a concurrent reader
// sees either no file or the whole secret, never a partly written one.
func publishOnce(path string, contents []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("auth: creating %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp already uses 0600; Chmod makes that independent of it.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("auth: creating %s: %w", path, err)
	}
	if _, err := tmp.Write(contents); err != nil {
		tmp.Close()
		return fmt.Errorf("auth: writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("auth: writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("auth: writing %s: %w", path, err)
	}
	err = os.Link(tmp.Name(), path)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	// Some filesystems have no hard links. Fall back to an exclusive
	// create, which still never overwrites; only the all-or-nothing
	// visibility to a concurrent reader is lost.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("auth: creating %s: %w", path, err)
	}
	if _, err := f.Write(contents); err != nil {
		f.Close()
		return fmt.Errorf("auth: writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("auth: writing %s: %w", path, err)
	}
	return f.Close()
}
