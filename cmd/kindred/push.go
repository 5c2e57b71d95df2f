package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/webpush"
)

// pushFlags are serve's Web Push settings (docs/deploy.md, "Web Push").
type pushFlags struct {
	subject, keyFile *string
}

func addPushFlags(fs *flagSet) pushFlags {
	return pushFlags{
		subject: fs.String("push-subject", "", "turn on Web Push notices of pages to supervisors' browsers; the contact push services see\n"+
			"in every request (RFC 8292): mailto:oncall@example.org or an https: URL. Empty: no Web Push"),
		keyFile: fs.String("vapid-key-file", "", "file holding the VAPID private key (the P-256 scalar, base64url) that signs pushes; every node\n"+
			"must use the same. Empty: generated on first start and kept in the store, shared by every node"),
	}
}

// check refuses settings that cannot work, before anything is opened.
func (f pushFlags) check() error {
	if *f.subject == "" {
		if *f.keyFile != "" {
			return errors.New("--vapid-key-file needs --push-subject")
		}
		return nil
	}
	if err := webpush.CheckSubject(*f.subject); err != nil {
		return fmt.Errorf("--push-subject: %w", err)
	}
	return nil
}

// newPush builds the node's Web Push sender, or nil when --push-subject
// is not set. The key comes from --vapid-key-file, or from the store,
// where the first node to start puts a new one.
func newPush(ctx context.Context, f pushFlags, st chat.Store, logger *slog.Logger) (*webpush.Sender, error) {
	if *f.subject == "" {
		return nil, nil
	}
	ps, ok := st.(webpush.Store)
	if !ok {
		return nil, fmt.Errorf("web push: the store (%T) keeps no push subscriptions", st)
	}
	var keys *webpush.Keys
	var err error
	if *f.keyFile != "" {
		var b []byte
		if b, err = os.ReadFile(*f.keyFile); err == nil {
			keys, err = webpush.ParseKeys(string(b))
		}
	} else {
		keys, err = webpush.StoredKeys(ctx, ps)
	}
	if err != nil {
		return nil, fmt.Errorf("web push key: %w", err)
	}
	return webpush.NewSender(webpush.Options{Store: ps, Keys: keys, Subject: *f.subject, Logger: logger})
}
