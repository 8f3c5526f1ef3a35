package config

import (
	"errors"
	"strings"
	"testing"
)

// render shows each entry as `path=value|raw source span`, one a line.
func render(data []byte, es []Entry) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString(e.PathString() + "=" + e.Value + "|" + string(data[e.Start:e.End]) + "\n")
	}
	return b.String()
}

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		in     string
		want   string
	}{
		{"yaml nested", YAML, "db:\n  host: db.internal\n  password: \"p@ss\\\"w0rd\"\n  port: 5432\n  tls: true\n",
			"db.host=db.internal|db.internal\ndb.password=p@ss\"w0rd|p@ss\\\"w0rd\ndb.port=5432|5432\n"},
		{"yaml list and flow", YAML, "users:\n- name: ci\n  user: {token: 'abc''def'}\n",
			"users[0].name=ci|ci\nusers[0].user.token=abc'def|abc''def\n"},
		{"yaml unicode column", YAML, "ключ: { pw: s3cr3t }\n", "ключ.pw=s3cr3t|s3cr3t\n"},
		{"yaml block scalar", YAML, "key: |\n  line one\n  line two\nnext: x\n",
			"key=line one\nline two\n|line one\n  line two\nnext=x|x\n"},
		{"yaml multi doc", YAML, "a: 1\n---\nb: two\n", "a=1|1\nb=two|two\n"},
		{"yaml null skipped", YAML, "a: ~\nb: null\nc:\n", ""},
		{"json", JSON, `{"auths": {"ghcr.io": {"auth": "dXNlcjpwYXNz"}}, "n": [1, "x\u0041"]}`,
			"auths.ghcr.io.auth=dXNlcjpwYXNz|dXNlcjpwYXNz\nn[0]=1|1\nn[1]=xA|x\\u0041\n"},
		{"json multiline", JSON, "{\n  \"a\" :\n    \"b\" ,\n  \"c\": {\"d\": [\"e\"]}\n}\n",
			"a=b|b\nc.d[0]=e|e\n"},
		{"toml tables", TOML, "title = \"x\"\n[db]\npassword = \"pw\\u0041\" # c\n[[servers]]\nkey = 'lit'\n[[servers]]\nkey = \"\"\"\nmulti\"\"\"\n",
			"title=x|x\ndb.password=pwA|pw\\u0041\nservers[0].key=lit|lit\nservers[1].key=multi|multi\n"},
		{"toml inline and dotted", TOML, "a.b = { c = \"d\", e = [\"f\", 1] }\n\"q k\".x = 'y'\n",
			"a.b.c=d|d\na.b.e[0]=f|f\nq k.x=y|y\n"},
		{"ini", INI, "; comment\n[client]\nuser = root\npassword = \"s3cret\"\n[remote \"origin\"]\n\turl = https://x@y/z\n",
			"client.user=root|root\nclient.password=s3cret|s3cret\nremote.origin.url=https://x@y/z|https://x@y/z\n"},
		{"properties", Properties, "# c\nspring.datasource.password=hunter22\napp.key : v\\u0041l\nnokey\n",
			"spring.datasource.password=hunter22|hunter22\napp.key=vAl|v\\u0041l\n"},
		{"dotenv", Dotenv, "# c\nexport API_KEY=abc123 # note\nDB_PASSWORD='p w'\nEMPTY=\nBAD LINE\n",
			"API_KEY=abc123|abc123\nDB_PASSWORD=p w|p w\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := Parse(tt.format, []byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := render([]byte(tt.in), es); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		format   Format
		in       string
		wantLine int
	}{
		{"yaml bad indent", YAML, "a: b\n  c: d\n", 2},
		{"yaml tab", YAML, "a:\n\t- b\n", 2},
		{"json truncated", JSON, "{\n\"a\": \"b\",\n", 2},
		{"json trailing comma", JSON, "{\"a\": 1,\n}", 2},
		{"json extra", JSON, "{} {}", 1},
		{"toml", TOML, "a = \"b\"\nc = \n", 2},
		{"ini nginx", INI, "server {\n  listen 80;\n}\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.format, []byte(tt.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *SyntaxError", err)
			}
			if se.Line != tt.wantLine {
				t.Errorf("line = %d, want %d (%v)", se.Line, tt.wantLine, err)
			}
		})
	}
}

func TestLinesFallback(t *testing.T) {
	in := "{\n  \"password\": \"abc\",  // comment\n  token = xyz # c\n- api_key: k1\n# skipped: yes\nnot a pair\n"
	want := "password=abc|abc\ntoken=xyz|xyz\napi_key=k1|k1\n"
	if got := render([]byte(in), Lines([]byte(in))); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestFormatOf(t *testing.T) {
	tests := map[string]Format{
		"a/b.yml": YAML, "x.YAML": YAML, "c.json": JSON, "Cargo.toml": TOML, "setup.cfg": INI,
		"app.properties": Properties, ".env": Dotenv, ".env.local": Dotenv, "prod.env": Dotenv,
		"home/.pypirc": INI, "repo/.git/config": INI, "home/.kube/config": YAML, "home/.aws/credentials": INI,
		"main.go": Unknown, "README.md": Unknown, "config": Unknown,
	}
	for name, want := range tests {
		if got := FormatOf(name); got != want {
			t.Errorf("FormatOf(%q) = %v, want %v", name, got, want)
		}
	}
}
