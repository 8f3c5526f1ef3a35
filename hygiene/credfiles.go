package hygiene

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/tokenward/tokenward/shape"
)

// Line-format credential files recognised by name: each line of .pgpass,
// .htpasswd and shadow files holds a credential in a fixed field; MySQL option
// files and editors' SFTP/FTP deploy configs hold a password under a known key;
// Rails' master.key is the key itself.

// eachLine calls fn with the start offset and text (without \r\n) of every line
// that is not blank or a # comment.
func eachLine(data []byte, fn func(off int, line []byte)) {
	for off := 0; off < len(data); {
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data) - off
		}
		line := bytes.TrimRight(data[off:off+end], "\r")
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			fn(off, line)
		}
		off += end + 1
	}
}

// checkPgpass reads hostname:port:database:username:password lines (\: and \\
// escape a colon and a backslash).
func (c *Checker) checkPgpass(d *doc) {
	eachLine(d.data, func(off int, line []byte) {
		field, start := 0, 0
		for i := 0; i < len(line); i++ {
			switch {
			case line[i] == '\\':
				i++
			case line[i] == ':':
				field++
				if field == 4 {
					start = i + 1
				}
			}
		}
		if field != 4 || start >= len(line) {
			return
		}
		v := string(line[start:])
		if v == "*" || Placeholder(v) {
			return
		}
		d.stored("pgpass-password", off+start, off+len(line), v,
			".pgpass holds a PostgreSQL password for "+string(line[:bytes.IndexByte(line, ':')]),
			"use PGPASSFILE outside the repository, a service file with a secret store, or client certificates")
	})
}

// hashPrefixes are the crypt(3) and Apache formats a password file field holds.
var hashPrefixes = []string{"$apr1$", "$2y$", "$2a$", "$2b$", "$1$", "$5$", "$6$", "$y$", "$7$", "{SHA}", "{SSHA}"}

var desCrypt = regexp.MustCompile(`^[./0-9A-Za-z]{13}$`)

func passwordHashField(v string) bool {
	for _, p := range hashPrefixes {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	return desCrypt.MatchString(v)
}

// checkHtpasswd reads user:hash lines of an Apache password file. A hash is
// crackable offline (MD5-APR and SHA-1 quickly); a field that is no known hash is
// a plain-text password (htpasswd -p).
func (c *Checker) checkHtpasswd(d *doc) {
	eachLine(d.data, func(off int, line []byte) {
		i := bytes.IndexByte(line, ':')
		if i <= 0 || i == len(line)-1 {
			return
		}
		user, v := string(line[:i]), string(line[i+1:])
		if strings.ContainsAny(user, " \t") || Placeholder(v) {
			return
		}
		what := ".htpasswd holds the password hash of " + user + " (crackable offline)"
		if !passwordHashField(v) {
			what = ".htpasswd holds the plain-text password of " + user
		}
		d.stored("htpasswd-credential", off+i+1, off+len(line), v, what,
			"keep password files out of the repository and create them at deploy time from a secret store")
	})
}

// checkShadow reads name:hash:... lines of an /etc/shadow-style file; locked and
// empty fields (*, !, !!) hold no hash.
func (c *Checker) checkShadow(d *doc) {
	eachLine(d.data, func(off int, line []byte) {
		parts := bytes.SplitN(line, []byte(":"), 3)
		if len(parts) < 3 || !passwordHashField(string(parts[1])) {
			return
		}
		start := off + len(parts[0]) + 1
		d.stored("shadow-password-hash", start, start+len(parts[1]), string(parts[1]),
			"shadow file holds the password hash of "+string(parts[0])+" (crackable offline)",
			"never commit system account databases; set passwords at provisioning time")
	})
}

var optionPassword = regexp.MustCompile(`^\s*(?:password|pass)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))\s*$`)

// checkMyCnf reads password = ... options of a MySQL/MariaDB option file
// (~/.my.cnf, my.cnf, my.ini) in any group ([client], [mysqldump] ...).
func (c *Checker) checkMyCnf(d *doc) {
	eachLine(d.data, func(off int, line []byte) {
		m := optionPassword.FindSubmatchIndex(line)
		if m == nil {
			return
		}
		for g := 1; g <= 3; g++ {
			if s, e := m[2*g], m[2*g+1]; s >= 0 && e > s {
				v := string(line[s:e])
				if Placeholder(v) || shape.Masked(v) {
					return
				}
				d.stored("mysql-option-password", off+s, off+e, v, "MySQL option file holds a password",
					"use mysql_config_editor (.mylogin.cnf) outside the repository or a secret store")
				return
			}
		}
	})
}

var deployPassword = regexp.MustCompile(`"(?i:password|passphrase|pass)"\s*:\s*"((?:[^"\\]|\\.)+)"`)

// checkDeployConfig reads the password of an editor's SFTP/FTP deploy config:
// Sublime SFTP sftp-config.json, Atom .ftpconfig and .remote-sync.json, VS Code
// .vscode/sftp.json. They are JSON with comments, so the password field is read
// by its syntax rather than parsed.
func (c *Checker) checkDeployConfig(d *doc) {
	for _, m := range deployPassword.FindAllSubmatchIndex(d.data, -1) {
		v := string(d.data[m[2]:m[3]])
		if Placeholder(v) || shape.Masked(v) {
			continue
		}
		d.stored("deploy-config-password", m[2], m[3], v,
			"editor deploy config "+d.path+" holds the server password",
			"use an SSH key or the editor's secret storage, and ignore the file in .gitignore")
	}
}

var railsKey = regexp.MustCompile(`^[0-9a-f]{32}$`)

// checkRailsKey reports config/master.key (and config/credentials/<env>.key): the
// key that decrypts credentials.yml.enc.
func (c *Checker) checkRailsKey(d *doc) {
	t := bytes.TrimSpace(d.data)
	if !railsKey.Match(t) {
		return
	}
	start := bytes.Index(d.data, t)
	d.stored("rails-master-key", start, start+len(t), string(t),
		"Rails master key "+d.path+" decrypts credentials.yml.enc",
		"keep config/master.key out of the repository (Rails ignores it by default) and set RAILS_MASTER_KEY at deploy time")
}
