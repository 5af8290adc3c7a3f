#!/usr/bin/env bash
# Regenerates the synthetic Intel-shaped PKI that tests and benchmarks use to build quotes a
# chain accepts: a root CA, a "PCK Platform CA", a PCK leaf with an Intel SGX extension, a TCB
# signing certificate and both CRLs (the PCK CRL revokes one serial, never the leaf's). The leaf
# and the signer carry Intel's common names, which the verifier pins; two more certificates with
# the same keys and other names test that pin. Keys are test keys, written as raw 32-byte P-256
# scalars. Needs openssl and python3. (The committed files were made by an earlier version of
# this script with other names, then renamed by reissue.py, keeping keys, serials and CRLs.
# earlier-crl.py then wrote pck-ca-earlier.crl.der, the PCK CA's list from before the
# revocation; rerun it after this script.)
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

key() { openssl ecparam -name prime256v1 -genkey -noout -out "$work/$1.pem"; \
	openssl ec -in "$work/$1.pem" -text -noout 2>/dev/null | python3 -c '
import sys, re
text = sys.stdin.read()
hexes = re.search(r"priv:\s*([0-9a-f:\s]+)pub:", text).group(1)
raw = bytes.fromhex(re.sub(r"[^0-9a-f]", "", hexes)).rjust(32, b"\0")[-32:]
open(sys.argv[1], "wb").write(raw)' "$1.key"; }

for name in root pck-ca pck signer revoked-pck; do key "$name"; done

# The Intel SGX extension: TCB (CPU SVN 16 components of 2, PCE SVN 10, CPU SVN bytes) and FMSPC.
sgx_extension=$(python3 - <<'PY'
def tlv(tag, body): 
    n = len(body)
    length = bytes([n]) if n < 128 else bytes([0x81, n]) if n < 256 else bytes([0x82, n >> 8, n & 255])
    return bytes([tag]) + length + body
def oid(arcs):
    first = bytes([40 * arcs[0] + arcs[1]])
    rest = b""
    for a in arcs[2:]:
        chunk = [a & 0x7f]
        a >>= 7
        while a:
            chunk.insert(0, 0x80 | (a & 0x7f)); a >>= 7
        rest += bytes(chunk)
    return tlv(0x06, first + rest)
base = [1, 2, 840, 113741, 1, 13, 1]
integer = lambda v: tlv(0x02, bytes([v]))
components = b"".join(tlv(0x30, oid(base + [2, i]) + integer(2)) for i in range(1, 17))
tcb = components + tlv(0x30, oid(base + [2, 17]) + integer(10)) \
    + tlv(0x30, oid(base + [2, 18]) + tlv(0x04, bytes([2] * 16)))
ext = tlv(0x30, oid(base + [1]) + tlv(0x04, bytes(16))) \
    + tlv(0x30, oid(base + [2]) + tlv(0x30, tcb)) \
    + tlv(0x30, oid(base + [3]) + tlv(0x04, bytes(2))) \
    + tlv(0x30, oid(base + [4]) + tlv(0x04, bytes.fromhex("C0FFEE000000"))) \
    + tlv(0x30, oid(base + [5]) + tlv(0x0a, b"\x00"))
print(tlv(0x30, ext).hex().upper())
PY
)

cat > "$work/ca.cnf" <<CNF
[ ca ]
default_ca = test
[ test ]
dir = $work
database = \$dir/index-\$ENV::CA.txt
new_certs_dir = \$dir
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_md = sha256
policy = anything
unique_subject = no
[ anything ]
commonName = supplied
organizationName = optional
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical,CA:TRUE,pathlen:1
keyUsage = critical,keyCertSign,cRLSign
[ v3_signer ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
[ v3_pck ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
1.2.840.113741.1.13.1 = DER:$sgx_extension
CNF
touch "$work/index-root.txt" "$work/index-pck-ca.txt"
echo 1000 > "$work/serial"; echo 01 > "$work/crlnumber"
export CA
dates=(-startdate 20200101000000Z -enddate 20491231235959Z)

CA=root openssl req -new -config "$work/ca.cnf" -key "$work/root.pem" \
	-subj "/CN=Commons Test Root CA/O=Commons" -out "$work/root.csr"
CA=root openssl ca -batch -config "$work/ca.cnf" -selfsign -keyfile "$work/root.pem" \
	-extensions v3_ca "${dates[@]}" -in "$work/root.csr" -out "$work/root.crt" 2>/dev/null

issue() { # name subject extensions issuer-name
	CA=$4 openssl req -new -config "$work/ca.cnf" -key "$work/$1.pem" -subj "$2" -out "$work/$1.csr"
	CA=$4 openssl ca -batch -config "$work/ca.cnf" -cert "$work/$4.crt" -keyfile "$work/$4.pem" \
		-extensions "$3" "${dates[@]}" -in "$work/$1.csr" -out "$work/$1.crt" 2>/dev/null
}
issue pck-ca "/CN=Intel SGX PCK Platform CA/O=Commons" v3_ca root
issue signer "/CN=Intel SGX TCB Signing/O=Commons" v3_signer root
issue pck "/CN=Intel SGX PCK Certificate/O=Commons" v3_pck pck-ca
# A revoked certificate, so the PCK CRL lists one serial that is not the leaf's.
issue revoked-pck "/CN=Intel SGX PCK Certificate/O=Commons" v3_pck pck-ca
# The leaf's and the signer's keys under other names: what the pinned names refuse.
cp "$work/pck.pem" "$work/pck-other-name.pem"
issue pck-other-name "/CN=Commons Test PCK Certificate/O=Commons" v3_pck pck-ca
cp "$work/signer.pem" "$work/signer-other-name.pem"
issue signer-other-name "/CN=Commons Test TCB Signing/O=Commons" v3_signer root
CA=pck-ca openssl ca -config "$work/ca.cnf" -cert "$work/pck-ca.crt" -keyfile "$work/pck-ca.pem" \
	-revoke "$work/revoked-pck.crt" 2>/dev/null

for ca in root pck-ca; do
	CA=$ca openssl ca -gencrl -config "$work/ca.cnf" -cert "$work/$ca.crt" -keyfile "$work/$ca.pem" \
		-crldays 3650 -out "$work/$ca.crl" 2>/dev/null
	openssl crl -in "$work/$ca.crl" -outform DER -out "$ca.crl.der"
done
# The largest PCK CRL a chain stores (64 KiB): ~1 500 more revoked 20-byte serials, as Intel's
# lists have, for the registration benchmark.
python3 - "$work/index-pck-ca.txt" <<'PY'
import sys, random
random.seed(7)
with open(sys.argv[1], "a") as index:
    for n in range(1480):
        serial = "%040X" % random.getrandbits(159)
        index.write(f"R\t491231235959Z\t261122000000Z\t{serial}\tunknown\t/CN=Revoked {n}\n")
PY
CA=pck-ca openssl ca -gencrl -config "$work/ca.cnf" -cert "$work/pck-ca.crt" -keyfile "$work/pck-ca.pem" \
	-crldays 3650 -out "$work/pck-ca-large.crl" 2>/dev/null
openssl crl -in "$work/pck-ca-large.crl" -outform DER -out pck-ca-large.crl.der

for cert in root pck-ca signer pck revoked-pck pck-other-name signer-other-name; do
	openssl x509 -in "$work/$cert.crt" -outform DER -out "$cert.der"
done
echo "synthetic PKI written to $(pwd)"
