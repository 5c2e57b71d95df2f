package signaling

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // TURN REST credentials are HMAC-SHA1 by definition; coturn checks exactly this
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// TURN REST credentials (draft-uberti-behave-turn-rest, the form coturn
// accepts with use-auth-secret / static-auth-secret): the username is
// "<unix expiry>:<user>" and the credential is
// base64(HMAC-SHA1(secret, username)). Whoever knows the shared secret can
// check a credential without any state, and a credential that leaks stops
// working at its expiry.

// turnRESTCredential returns the username and credential for user, valid
// until expires. An empty user gives the bare timestamp, which coturn also
// accepts.
func turnRESTCredential(secret, user string, expires time.Time) (username, credential string) {
	username = strconv.FormatInt(expires.Unix(), 10)
	if user != "" {
		username += ":" + user
	}
	return username, turnRESTPassword(secret, username)
}

// turnRESTPassword is the credential of username under secret.
func turnRESTPassword(secret, username string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// turnRESTExpiry reads the expiry of a TURN REST username: the decimal Unix
// time before the first colon (coturn splits on the first separator too, so
// a user id holding a colon still works). ok is false for anything else.
func turnRESTExpiry(username string) (expires time.Time, ok bool) {
	ts, _, _ := strings.Cut(username, ":")
	if ts == "" || len(ts) > 19 {
		return time.Time{}, false
	}
	for _, c := range ts {
		if c < '0' || c > '9' { // no sign, no spaces: only what we issue
			return time.Time{}, false
		}
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}
