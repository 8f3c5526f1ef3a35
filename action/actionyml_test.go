package action

import (
	"os"
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
	var setupGo, build, scan bool
	for _, s := range a.Runs.Steps {
		if strings.Contains(s.Run, "${{") {
			t.Errorf("step %q interpolates an expression into shell code; pass it through env: %q", s.ID, s.Run)
		}
		switch {
		case strings.HasPrefix(s.Uses, "actions/setup-go@"):
			setupGo = strings.Contains(s.With["go-version-file"], "github.action_path")
		case strings.Contains(s.Run, "go install"):
			build = s.WorkingDirectory == "${{ github.action_path }}" && strings.Contains(s.Run, "./cmd/tokenward")
			if !strings.Contains(s.Env["GOBIN"], "runner.temp") {
				t.Errorf("build step installs to %q", s.Env["GOBIN"])
			}
		case strings.Contains(s.Run, "action/entrypoint.sh"):
			scan = s.ID == "scan" && s.Shell == "bash"
			for name := range a.Inputs {
				env := "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
				if s.Env[env] != "${{ inputs."+name+" }}" {
					t.Errorf("scan step: %s = %q, want the %s input", env, s.Env[env], name)
				}
				if !strings.Contains(string(script), env) {
					t.Errorf("entrypoint.sh does not read %s", env)
				}
			}
			if !strings.Contains(s.Env["TOKENWARD"], "tokenward-bin/tokenward") {
				t.Errorf("scan step runs %q", s.Env["TOKENWARD"])
			}
		}
	}
	if !setupGo || !build || !scan {
		t.Errorf("steps: setup-go from go.mod %v, go install in the action's checkout %v, scan step %v", setupGo, build, scan)
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
