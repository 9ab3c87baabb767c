// Command noteopen checks a signed note with Go's golang.org/x/mod/sumdb/note, the reference
// implementation of C2SP signed notes, given only verifier keys it understands (Ed25519): the
// interoperability check for the ledger's co-signed checkpoints.
//
//	noteopen VKEY < NOTE
//
// Prints the verified text and, one per line, "unverified NAME KEYID" for each signature by a key
// it was not given (the SM2 co-signature), then exits 0; exits 1 if the note does not verify.
package main

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/mod/sumdb/note"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: noteopen VKEY < NOTE")
		os.Exit(2)
	}
	verifier, err := note.NewVerifier(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "verifier key:", err)
		os.Exit(2)
	}
	msg, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reading the note:", err)
		os.Exit(2)
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fmt.Fprintln(os.Stderr, "does not verify:", err)
		os.Exit(1)
	}
	fmt.Print(n.Text)
	for _, sig := range n.UnverifiedSigs {
		fmt.Printf("unverified %s %08x\n", sig.Name, sig.Hash)
	}
}
