package git

import "testing"

func TestStripCredentials(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:ghp_secret@github.com/acme/x.git": "https://github.com/acme/x.git",
		"https://github.com/acme/x.git":                 "https://github.com/acme/x.git",
		"git@github.com:acme/x.git":                     "git@github.com:acme/x.git",
		"ssh://git@host/x.git":                          "ssh://host/x.git",
	} {
		if got := StripCredentials(in); got != want {
			t.Errorf("StripCredentials(%q) = %q, want %q", in, got, want)
		}
	}
}
