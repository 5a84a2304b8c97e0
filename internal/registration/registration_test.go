package registration

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSaveLoadUndo(t *testing.T) {
	dir := t.TempDir()
	if _, ok, err := Load(dir); ok || err != nil {
		t.Fatalf("nothing saved yet: ok %v err %v", ok, err)
	}
	first := Settings{Protocol: "hermes", Program: []string{"/g", "-p", "work", "gateway", "run"},
		Env: map[string]string{"TOKEN": "a b\n%c", "EMPTY": ""}, StopTimeout: Duration(2 * time.Minute)}
	undo, err := Save(dir, first)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok, err := Load(dir); !ok || err != nil || !reflect.DeepEqual(got, first) {
		t.Fatalf("load: %+v %v %v", got, ok, err)
	}
	// The stop timeout reads as a person writes it.
	if data, _ := os.ReadFile(filepath.Join(dir, File)); !strings.Contains(string(data), `"stop_timeout": "2m0s"`) {
		t.Fatalf("stop timeout written as:\n%s", data)
	}
	// --env may carry secrets: only the owner reads them.
	if info, err := os.Stat(filepath.Join(dir, File)); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", info.Mode(), err)
	}
	second := Settings{Protocol: "plain"}
	undo2, err := Save(dir, second)
	if err != nil {
		t.Fatal(err)
	}
	undo2() // a refused registration puts the old settings back
	if got, _, _ := Load(dir); !reflect.DeepEqual(got, first) {
		t.Fatalf("after undo: %+v", got)
	}
	undo() // and the first one, that there was none
	if _, ok, _ := Load(dir); ok {
		t.Fatal("undo of the first save left a file")
	}
	if err := os.WriteFile(filepath.Join(dir, File), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(dir); err == nil {
		t.Fatal("a corrupt file read as settings")
	}
}

// TestSettingsWithoutAStopTimeout: settings saved before the stop timeout
// existed load with none (the default), and none is not written.
func TestSettingsWithoutAStopTimeout(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, File), []byte(`{"protocol":"plain"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := Load(dir); !ok || err != nil || got.StopTimeout != 0 || got.Protocol != "plain" {
		t.Fatalf("%+v %v %v", got, ok, err)
	}
	if _, err := Save(dir, Settings{Protocol: "plain"}); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, File)); strings.Contains(string(data), "stop_timeout") {
		t.Fatalf("a default stop timeout was written:\n%s", data)
	}
	if err := os.WriteFile(filepath.Join(dir, File), []byte(`{"stop_timeout":"soon"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(dir); err == nil {
		t.Fatal("a stop timeout that is no duration loaded")
	}
}
