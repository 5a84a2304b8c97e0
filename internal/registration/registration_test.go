package registration

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSaveLoadUndo(t *testing.T) {
	dir := t.TempDir()
	if _, ok, err := Load(dir); ok || err != nil {
		t.Fatalf("nothing saved yet: ok %v err %v", ok, err)
	}
	first := Settings{Protocol: "hermes", Program: []string{"/g", "-p", "work", "gateway", "run"},
		Env: map[string]string{"TOKEN": "a b\n%c", "EMPTY": ""}}
	undo, err := Save(dir, first)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok, err := Load(dir); !ok || err != nil || !reflect.DeepEqual(got, first) {
		t.Fatalf("load: %+v %v %v", got, ok, err)
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
