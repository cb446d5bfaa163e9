// Command bcrypt prints the bcrypt hash of the password it reads from stdin (surrounding
// white space removed), for the basic_auth_users of a Prometheus web config. The local stack's
// promauth server uses it: openssl cannot make bcrypt hashes.
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"golang.org/x/crypto/bcrypt"
)

func main() {
	password, err := io.ReadAll(io.LimitReader(os.Stdin, 1024))
	if err == nil {
		password = bytes.TrimSpace(password)
		if len(password) == 0 {
			err = fmt.Errorf("no password on stdin")
		}
	}
	var hash []byte
	if err == nil {
		hash, err = bcrypt.GenerateFromPassword(password, bcrypt.DefaultCost)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bcrypt:", err)
		os.Exit(1)
	}
	fmt.Println(string(hash))
}
