#!/usr/bin/env python3
"""Reissues the synthetic PKI's end-entity certificates under Intel's common names.

Intel's QVL pins the subjects of two certificates, and so does commons-dcap:
* TCB info and QE identity are signed by "Intel SGX TCB Signing";
* a PCK certificate is "Intel SGX PCK Certificate".
make.sh first issued them as "Commons Test TCB Signing" and "Commons Test PCK Certificate". This
script re-signs them with the new common names, keeping everything the tests depend on: the
keys (*.key), serial numbers (the PCK CRL revokes 0x1004, revoked-pck.der), validity, issuers
and extensions (the Intel SGX extension of the PCK certificates). The root, the PCK CA and both
CRLs are left as they are. It also issues, for the tests of those checks, certificates of the
same issuers and keys that carry another common name:
* pck-other-name.der: a PCK certificate (key pck.key, serial 0x1005) named "Commons Test PCK
  Certificate";
* signer-other-name.der: a root-issued signing certificate (key signer.key, serial 0x1006)
  named "Commons Test TCB Signing".

Needs the `cryptography` module. Run it from anywhere; it rewrites the files next to it. ECDSA
signatures are randomized, so each run writes different (equally valid) bytes.
"""

import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))

TCB_SIGNER_CN = "Intel SGX TCB Signing"
PCK_CN = "Intel SGX PCK Certificate"


def read(name):
    with open(os.path.join(HERE, name), "rb") as file:
        return file.read()


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as file:
        file.write(data)


def key(name):
    """A raw 32-byte P-256 scalar, as make.sh writes them."""
    return ec.derive_private_key(int.from_bytes(read(name), "big"), ec.SECP256R1())


def cert(name):
    return x509.load_der_x509_certificate(read(name))


def renamed(name, common_name):
    """`name` with its common name replaced, every other attribute and the order kept."""
    rdns = []
    for rdn in name.rdns:
        attributes = []
        for attribute in rdn:
            if attribute.oid == NameOID.COMMON_NAME:
                attribute = x509.NameAttribute(
                    NameOID.COMMON_NAME, common_name, _type=attribute._type
                )
            attributes.append(attribute)
        rdns.append(x509.RelativeDistinguishedName(attributes))
    return x509.Name(rdns)


def reissue(template, common_name, serial, subject_key, issuer_der, issuer_key):
    """A certificate like `template` (DER) named `common_name`, with `serial`, for
    `subject_key`, signed by `issuer_key` (whose certificate is `issuer_der`)."""
    issuer = x509.load_der_x509_certificate(issuer_der)
    builder = (
        x509.CertificateBuilder()
        .subject_name(renamed(template.subject, common_name))
        .issuer_name(issuer.subject)
        .public_key(subject_key.public_key())
        .serial_number(serial)
        .not_valid_before(template.not_valid_before_utc)
        .not_valid_after(template.not_valid_after_utc)
    )
    for extension in template.extensions:
        if isinstance(extension.value, x509.SubjectKeyIdentifier):
            value = x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key())
        elif isinstance(extension.value, x509.AuthorityKeyIdentifier):
            value = x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key())
        else:
            value = extension.value
        builder = builder.add_extension(value, extension.critical)
    issued = builder.sign(issuer_key, hashes.SHA256())

    # The checks a chain makes: the issuer's name byte for byte (webpki compares raw bytes),
    # the signature, and the copied fields.
    issuer_name = issuer.subject.public_bytes()
    assert issuer_name in issuer_der, "the issuer's name re-encodes differently"
    der = issued.public_bytes(serialization.Encoding.DER)
    assert issuer_name in der
    issued.verify_directly_issued_by(issuer)
    assert issued.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == common_name
    assert issued.serial_number == serial
    assert [e.oid for e in issued.extensions] == [e.oid for e in template.extensions]
    assert issued.public_key().public_numbers() == subject_key.public_key().public_numbers()
    return der


def main():
    root_der, pck_ca_der = read("root.der"), read("pck-ca.der")
    root_key, pck_ca_key = key("root.key"), key("pck-ca.key")
    signer_key, pck_key, revoked_key = key("signer.key"), key("pck.key"), key("revoked-pck.key")
    signer, pck, revoked = cert("signer.der"), cert("pck.der"), cert("revoked-pck.der")
    assert (signer.serial_number, pck.serial_number, revoked.serial_number) == (
        0x1002,
        0x1003,
        0x1004,
    ), "not the PKI make.sh writes"

    outputs = {
        "signer.der": reissue(signer, TCB_SIGNER_CN, 0x1002, signer_key, root_der, root_key),
        "pck.der": reissue(pck, PCK_CN, 0x1003, pck_key, pck_ca_der, pck_ca_key),
        "revoked-pck.der": reissue(revoked, PCK_CN, 0x1004, revoked_key, pck_ca_der, pck_ca_key),
        "pck-other-name.der": reissue(
            pck, "Commons Test PCK Certificate", 0x1005, pck_key, pck_ca_der, pck_ca_key
        ),
        "signer-other-name.der": reissue(
            signer, "Commons Test TCB Signing", 0x1006, signer_key, root_der, root_key
        ),
    }
    for name, der in outputs.items():
        write(name, der)

    # The PCK CRL still revokes exactly the revoked PCK certificate, and not the others.
    crl = x509.load_der_x509_crl(read("pck-ca.crl.der"))
    revoked_serials = {entry.serial_number for entry in crl}
    assert revoked_serials == {0x1004}, revoked_serials
    assert crl.is_signature_valid(cert("pck-ca.der").public_key())
    print("reissued", ", ".join(outputs))


if __name__ == "__main__":
    main()
