package systemd

import "github.com/nousresearch/hermes-service/shared/service"

func serviceInstall(system bool) service.InstallOptions {
	return service.InstallOptions{System: system}
}

func hint(err error) string { return service.HintOf(err) }
