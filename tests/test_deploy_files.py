"""deploy/ and the CI workflow, checked by the linters made for them (hadolint, kubernetes-validate,
actionlint; installed from requirements-dev.txt) and against covet's own drain timing: a
manifest that kills a pod before covet has drained it loses requests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
BASE = DEPLOY / "k8s" / "base"
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert path, f"{name} is not installed (requirements-dev.txt installs it)"
    return path


def run(*cmd: str) -> str:
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def manifests() -> dict[str, dict[str, Any]]:
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    return {name: yaml.safe_load((BASE / name).read_text()) for name in kustomization["resources"]}


def test_dockerfile_passes_hadolint() -> None:
    run(tool("hadolint"), "deploy/Dockerfile")


@pytest.mark.parametrize("name", list(manifests()))
def test_manifest_is_valid_kubernetes(name: str) -> None:
    out = run(tool("kubernetes-validate"), "--strict", str(BASE / name))
    assert "passed" in out


def test_workflow_passes_actionlint() -> None:
    run(tool("actionlint"), ".github/workflows/ci.yml")


def test_pods_outlive_covets_drain() -> None:
    docs = manifests()
    pod = docs["deployment.yaml"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    settings = docs["configmap.yaml"]["data"]
    pause = float(container["lifecycle"]["preStop"]["exec"]["command"][1])
    assert pause + float(settings["GRACEFUL_TIMEOUT"]) < pod["terminationGracePeriodSeconds"]
    assert container["livenessProbe"]["httpGet"]["path"] == settings["HEALTH_PATH"]
    assert container["ports"][0]["containerPort"] == int(settings["PORT"])
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "USER 10001:10001" in dockerfile and pod["securityContext"]["runAsUser"] == 10001
    assert f"HEALTH_PATH={settings['HEALTH_PATH']}" in dockerfile
