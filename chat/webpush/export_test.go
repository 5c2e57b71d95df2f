package webpush

// EncryptWith is encrypt for the external tests: Encrypt with a given
// sender key and salt.
var EncryptWith = encrypt
