package action

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// TestActionYAML checks action.yml against the entry script's contract: every
// input reaches the script as INPUT_<NAME>, no input is interpolated into shell
// code, the binary is built from the action's own checkout, and the outputs come
// from the scan step.
func TestActionYAML(t *testing.T) {
	data, err := os.ReadFile("../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var a struct {
		Name    string
		Inputs  map[string]struct{ Default string }
		Outputs map[string]struct{ Value string }
		Runs    struct {
			Using string
			Steps []struct {
				ID               string
				If               string
				Uses             string
				Run              string
				Shell            string
				WorkingDirectory string `yaml:"working-directory"`
				With             map[string]string
				Env              map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	var inputs []string
	for k := range a.Inputs {
		inputs = append(inputs, k)
	}
	slices.Sort(inputs)
	if want := []string{"args", "baseline", "config", "fail-on-severity", "sarif-file"}; !slices.Equal(inputs, want) {
		t.Errorf("inputs %v, want %v", inputs, want)
	}
	if a.Inputs["fail-on-severity"].Default != "info" || a.Inputs["sarif-file"].Default != "tokenward.sarif" {
		t.Errorf("defaults: %+v", a.Inputs)
	}
	if a.Runs.Using != "composite" {
		t.Fatalf("runs.using = %q, want composite", a.Runs.Using)
	}
	script, err := os.ReadFile("entrypoint.sh")
	if err != nil {
		t.Fatal(err)
	}
	// The caller's Go stays as it was: no setup-go, and no step exports Go or PATH
	// settings (build.sh sets them for its own go only; TestBuildScript checks it
	// writes nothing to GITHUB_ENV or GITHUB_PATH).
	const binDir = "${{ runner.temp }}/tokenward-bin"
	var keyStep, restore, build, save, scan = -1, -1, -1, -1, -1
	for i, s := range a.Runs.Steps {
		if strings.Contains(s.Run, "${{") {
			t.Errorf("step %q interpolates an expression into shell code; pass it through env: %q", s.ID, s.Run)
		}
		if strings.HasPrefix(s.Uses, "actions/setup-go@") {
			t.Errorf("step %d uses actions/setup-go, which changes the Go of the caller's later steps", i)
		}
		for k := range s.Env {
			if k == "PATH" || strings.HasPrefix(k, "GO") {
				t.Errorf("step %d sets %s", i, k)
			}
		}
		switch {
		case strings.Contains(s.Run, "action/build.sh\" key"):
			keyStep = i
			if s.ID != "key" {
				t.Errorf("the cache key step has id %q, want key", s.ID)
			}
		case strings.HasPrefix(s.Uses, "actions/cache/restore@"):
			restore = i
			if s.ID != "cache" || s.With["path"] != binDir || s.With["key"] != "${{ steps.key.outputs.key }}" {
				t.Errorf("restore step: id %q, with %v", s.ID, s.With)
			}
		case strings.Contains(s.Run, "action/build.sh\" build"):
			build = i
			if s.If != "steps.cache.outputs.cache-hit != 'true'" || s.Env["TOKENWARD_BIN_DIR"] != binDir || s.Env["ACTION_REF"] != "${{ github.action_ref }}" {
				t.Errorf("build step: if %q, env %v", s.If, s.Env)
			}
		case strings.HasPrefix(s.Uses, "actions/cache/save@"):
			// Saved right after the build: a post step would be skipped when
			// findings fail the job, and the cache would never fill.
			save = i
			if s.If != "steps.cache.outputs.cache-hit != 'true'" || s.With["path"] != binDir || s.With["key"] != "${{ steps.key.outputs.key }}" {
				t.Errorf("save step: if %q, with %v", s.If, s.With)
			}
		case strings.HasPrefix(s.Uses, "actions/cache@"):
			t.Errorf("step %d: actions/cache saves in a post step, skipped when the job fails on findings; use cache/restore and cache/save", i)
		case strings.Contains(s.Run, "action/entrypoint.sh"):
			scan = i
			if s.ID != "scan" || s.Shell != "bash" {
				t.Errorf("scan step: id %q, shell %q", s.ID, s.Shell)
			}
			for name := range a.Inputs {
				env := "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
				if s.Env[env] != "${{ inputs."+name+" }}" {
					t.Errorf("scan step: %s = %q, want the %s input", env, s.Env[env], name)
				}
				if !strings.Contains(string(script), env) {
					t.Errorf("entrypoint.sh does not read %s", env)
				}
			}
			if s.Env["TOKENWARD"] != binDir+"/tokenward" {
				t.Errorf("scan step runs %q", s.Env["TOKENWARD"])
			}
		}
	}
	if !(0 <= keyStep && keyStep < restore && restore < build && build < save && save < scan) {
		t.Errorf("steps in order key %d, restore %d, build %d, save %d, scan %d: want each, in that order", keyStep, restore, build, save, scan)
	}
	for _, out := range []string{"sarif-file", "findings", "failing"} {
		if a.Outputs[out].Value != "${{ steps.scan.outputs."+out+" }}" {
			t.Errorf("output %s = %q", out, a.Outputs[out].Value)
		}
		if !strings.Contains(string(script), `echo "`+out+`=`) {
			t.Errorf("entrypoint.sh never sets the %s output", out)
		}
	}
}

// TestPinningDocumented: the README shows the three ways to pin the action (the
// moving major tag, a release tag, a full commit SHA), and the release workflow
// moves the major tag that the first relies on.
func TestPinningDocumented(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{`uses: tokenward/tokenward@v1\s`, `uses: tokenward/tokenward@v\d+\.\d+\.\d+\s`, `uses: tokenward/tokenward@[0-9a-f]{40}\s+# v\d+\.\d+\.\d+`} {
		if !regexp.MustCompile(re).Match(readme) {
			t.Errorf("README.md does not show a pin matching %s", re)
		}
	}
	wf, err := os.ReadFile("../.github/workflows/release.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`git tag -fa "$major"`, `git push --force origin "refs/tags/$major"`, "tags:"} {
		if !strings.Contains(string(wf), want) {
			t.Errorf("release.yml lacks %q: the major tag would not move", want)
		}
	}
}
