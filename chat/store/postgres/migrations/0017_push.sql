-- Web Push (docs/protocol.md#web-push): each browser a supervisor
-- subscribed to notifications of pages. An endpoint names one browser's
-- subscription at its push service, so it is the key: subscribing a
-- browser that someone else subscribed before moves it to the new user.
-- p256dh and auth are the browser's keys (base64url), which encrypt each
-- push; created_at is unix nanoseconds, and the oldest of a user's
-- subscriptions go first past the cap. (0016 is left to a change made at
-- the same time; versions apply as a set.)
CREATE TABLE push_subscriptions (
    endpoint   text PRIMARY KEY,
    user_id    text NOT NULL,
    p256dh     text NOT NULL,
    auth       text NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id, created_at);

-- Settings of the deployment that every node must share and that are made
-- on first start: the VAPID private key (vapid_private_key) that signs
-- every push, unless one is given to serve.
CREATE TABLE deployment_settings (
    name  text PRIMARY KEY,
    value text NOT NULL
);
