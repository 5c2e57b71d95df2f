#!/bin/sh
# Makes the certificates deploy/compose.yaml uses for TLS between the
# Kindred nodes and PostgreSQL and Redis: a private certificate authority
# and one server certificate each, in deploy/certs (or the directory given).
#
#   deploy/make-certs.sh            # once, before docker compose up
#
# The nodes trust only this authority (sslrootcert=, --redis-tls-ca), so a
# server certificate not made here is refused. Keys stay in the directory
# (mode 0600, never commit them); run again to replace everything, then
# restart PostgreSQL, Redis and the nodes. For production use your own
# authority or your platform's, and renew before the 825 days run out.
set -eu

dir=${1:-$(dirname "$0")/certs}
days=825
mkdir -p "$dir"
cd "$dir"
umask 077

# The authority: its key signs the server certificates and nothing else.
openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
  -keyout ca.key -out ca.crt -days "$days" -subj "/CN=Kindred deployment CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

# server NAME: NAME.key and NAME.crt for the host names the nodes dial
# (the compose service name), plus localhost for health checks.
server() {
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout "$1.key" -out "$1.csr" -subj "/CN=$1"
  printf 'subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' "$1" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
    -days "$days" -extfile "$1.ext" -out "$1.crt"
  rm -f "$1.csr" "$1.ext"
}
server postgres
server redis

# Certificates are public; the containers copy the keys they need and
# give them to their own user (compose.yaml).
chmod 0755 .
chmod 0644 ca.crt postgres.crt redis.crt
chmod 0600 ca.key postgres.key redis.key
rm -f ca.srl
echo "certificates in $dir: ca.crt, postgres.crt/.key, redis.crt/.key"
