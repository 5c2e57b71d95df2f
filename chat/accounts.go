package chat

import (
	"context"
	"time"
)

// AccountSource says how a person first reached Kindred.
type AccountSource string

// The sources of accounts.
const (
	// SourceToken: first seen through a token minted elsewhere (the
	// clinic's systems, `kindred token`); the token says who they are.
	SourceToken AccountSource = "token"
	// SourceOIDC: signed in through the clinic's OpenID Connect provider.
	SourceOIDC AccountSource = "oidc"
	// SourceEmail: signed in through an emailed link.
	SourceEmail AccountSource = "email"
)

// AccountStatus says whether a person may sign in.
type AccountStatus string

// The statuses of accounts.
const (
	StatusActive      AccountStatus = "active"
	StatusDeactivated AccountStatus = "deactivated"
)

// Valid reports whether s is a known status.
func (s AccountStatus) Valid() bool { return s == StatusActive || s == StatusDeactivated }

// Signup says who may get an account through an emailed link.
type Signup string

// The signup policies.
const (
	// SignupInvite: only people with an account, or with a room invite.
	SignupInvite Signup = "invite"
	// SignupOpen: anyone with an email address (as a peer).
	SignupOpen Signup = "open"
)

// SignupOf is the policy a stored setting names: SignupOpen only when it
// says so, SignupInvite for anything else (unset included).
func SignupOf(v string) Signup {
	if Signup(v) == SignupOpen {
		return SignupOpen
	}
	return SignupInvite
}

// SettingSignup is the deployment setting that holds the signup policy in
// force (SignupInvite when unset).
const SettingSignup = "signup"

// Account is a person in the directory: the User every session knows,
// with what the directory adds.
type Account struct {
	User
	// Email is lower-cased; "" when unknown. At most one account has a
	// given email.
	Email      string        `json:"email"`
	Source     AccountSource `json:"source"`
	Status     AccountStatus `json:"status"`
	CreatedAt  time.Time     `json:"created_at"`
	LastSignIn time.Time     `json:"last_sign_in_at"` // zero: never through Kindred's sign-in
}

// AccountQuery selects accounts for the directory.
type AccountQuery struct {
	// Search matches a substring of the id, name or email, case-insensitive
	// ("" matches all).
	Search string
	// Role and Status, when set, must match exactly.
	Role   string
	Status AccountStatus
	// After pages: accounts whose id sorts after it. Limit is 1 to 200
	// (0: 50).
	After string
	Limit int
}

// AuthSession is one browser sign-in, kept alive by a chain of refresh
// tokens (Accounts.RotateRefresh).
type AuthSession struct {
	ID        string    `json:"id"`
	User      string    `json:"user"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	LastUsed  time.Time `json:"last_used_at"`
	Revoked   bool      `json:"revoked"`
}

// SignInLink is an emailed, single-use sign-in link, stored by the
// SHA-256 of its secret.
type SignInLink struct {
	Hash      string
	Email     string
	Invite    string // the room invite code it was asked for from, or ""
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Sign-in refusals that a client may see.
var (
	// ErrRefreshInvalid: unknown, expired or revoked refresh token.
	ErrRefreshInvalid = &Error{Code: CodeAuthRequired, Message: "your sign-in has ended; sign in again"}
	// ErrRefreshReused: a refresh token that was already exchanged was
	// presented again, after the reuse interval; the whole session ended.
	ErrRefreshReused = &Error{Code: CodeAuthRequired, Message: "this sign-in was used from somewhere else and has been ended for your safety; sign in again"}
	// ErrDeactivated: an admin deactivated the account.
	ErrDeactivated = &Error{Code: CodeAccountDeactivated, Message: "this account has been deactivated; ask an administrator"}
	// ErrLinkUsed and ErrLinkExpired: an emailed link used twice or late.
	ErrLinkUsed    = &Error{Code: CodeLinkInvalid, Message: "this sign-in link has already been used; ask for a new one"}
	ErrLinkExpired = &Error{Code: CodeLinkInvalid, Message: "this sign-in link has expired; ask for a new one"}
)

// Accounts is the people directory and what sign-in keeps: browser
// sessions and emailed links. Every chat.Store implements it.
//
// Contract:
//   - Account ids are user ids (the sub of the tokens the server mints).
//     Emails are compared lower-cased; SaveAccount refuses an email another
//     account holds with CodeConflict.
//   - A deactivated account keeps its data; SetAccountStatus to
//     deactivated also revokes every AuthSession of the user in the same
//     transaction.
//   - Refresh tokens and link secrets are stored only as hashes given by
//     the caller; the store never sees the secrets.
//   - RotateRefresh is atomic: of concurrent rotations of one token
//     exactly one gets it as unused.
type Accounts interface {
	// Account returns one account, or ErrNotFound.
	Account(ctx context.Context, id string) (Account, error)
	// AccountByEmail returns the account with that email, or ErrNotFound.
	AccountByEmail(ctx context.Context, email string) (Account, error)
	// SaveAccount creates a.ID or updates its name, role, email (a blank
	// email keeps the stored one) and source, and sets its last sign-in to
	// signedIn when that is not zero. The status of an existing account
	// never changes here; a new one is active.
	SaveAccount(ctx context.Context, a Account, signedIn time.Time) (Account, error)
	// ListAccounts lists accounts by id.
	ListAccounts(ctx context.Context, q AccountQuery) ([]Account, error)
	// SetAccountRole sets the account's role (ErrNotFound when unknown).
	SetAccountRole(ctx context.Context, id, role string) error
	// SetAccountStatus sets the status (see the contract).
	SetAccountStatus(ctx context.Context, id string, status AccountStatus) error

	// CreateAuthSession stores a new session with its first refresh
	// token's hash.
	CreateAuthSession(ctx context.Context, s AuthSession, tokenHash string) error
	// RotateRefresh exchanges the refresh token with hash old for one with
	// hash next, at now: it returns the session, whose LastUsed becomes
	// now. A token unknown, or of a revoked or expired session, is
	// ErrRefreshInvalid; of a deactivated user, ErrDeactivated. A token already exchanged is
	// accepted again only within reuse of its exchange (two tabs racing);
	// later it revokes the session and returns ErrRefreshReused.
	RotateRefresh(ctx context.Context, old, next string, now time.Time, reuse time.Duration) (AuthSession, error)
	// RevokeAuthSession ends the session that the refresh token with
	// tokenHash belongs to (any of its tokens, used or not): sign-out. It
	// returns the session's user, "" for an unknown token (which changes
	// nothing).
	RevokeAuthSession(ctx context.Context, tokenHash, reason string) (string, error)
	// RevokeAuthSessions ends every session of user and says how many.
	RevokeAuthSessions(ctx context.Context, user, reason string) (int, error)
	// AuthSessions lists the user's sessions still in force, newest first.
	AuthSessions(ctx context.Context, user string) ([]AuthSession, error)

	// CreateSignInLink stores a link.
	CreateSignInLink(ctx context.Context, l SignInLink) error
	// CountSignInLinks counts the links made for email since since.
	CountSignInLinks(ctx context.Context, email string, since time.Time) (int, error)
	// UseSignInLink marks the link with hash used at now and returns it:
	// ErrNotFound when unknown, ErrLinkUsed when used before,
	// ErrLinkExpired when past its end. Of concurrent uses one wins.
	UseSignInLink(ctx context.Context, hash string, now time.Time) (SignInLink, error)

	// InviteByCode returns the room invite with code, whatever its state,
	// without using it (ErrNotFound when unknown).
	InviteByCode(ctx context.Context, code string) (Invite, error)

	// Setting returns a deployment setting, "" when unset; PutSetting
	// sets one.
	Setting(ctx context.Context, name string) (string, error)
	PutSetting(ctx context.Context, name, value string) error
}
