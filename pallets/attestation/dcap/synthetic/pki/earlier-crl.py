#!/usr/bin/env python3
"""Writes pck-ca-earlier.crl.der: the PCK CA's revocation list as it was before it revoked
revoked-pck.der (serial 0x1004), for the tests and benchmarks of revocation after registration.

It revokes nothing, is CRL number 1 (pck-ca.crl.der is 2), and was issued 2026-11-01, three
weeks before pck-ca.crl.der, so a chain accepts pck-ca.crl.der after it as newer. Signed with
pck-ca.key over the PCK CA's name exactly as pck-ca.der encodes it.

Needs the `cryptography` module. Run it from anywhere; it writes the file next to it. ECDSA
signatures are randomized, so each run writes different (equally valid) bytes.
"""

import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

HERE = os.path.dirname(os.path.abspath(__file__))


def read(name):
    with open(os.path.join(HERE, name), "rb") as file:
        return file.read()


def main():
    ca_der = read("pck-ca.der")
    ca = x509.load_der_x509_certificate(ca_der)
    ca_key = ec.derive_private_key(int.from_bytes(read("pck-ca.key"), "big"), ec.SECP256R1())
    assert ca_key.public_key().public_numbers() == ca.public_key().public_numbers()
    utc = datetime.timezone.utc
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.subject)
        .last_update(datetime.datetime(2026, 11, 1, tzinfo=utc))
        .next_update(datetime.datetime(2036, 11, 1, tzinfo=utc))
        .add_extension(x509.CRLNumber(1), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    der = crl.public_bytes(serialization.Encoding.DER)

    # The checks a chain makes: the issuer's name byte for byte, the signature, and an issue
    # before the later list's.
    assert ca.subject.public_bytes() in der
    assert ca.subject.public_bytes() in ca_der
    assert crl.is_signature_valid(ca.public_key())
    later = x509.load_der_x509_crl(read("pck-ca.crl.der"))
    assert crl.last_update_utc < later.last_update_utc
    assert {entry.serial_number for entry in crl} == set()
    with open(os.path.join(HERE, "pck-ca-earlier.crl.der"), "wb") as file:
        file.write(der)
    print("wrote pck-ca-earlier.crl.der")


if __name__ == "__main__":
    main()
