import os

from tests.test_readme import doc_snippet

PAGE = "docs/guides/sampling.md"


def test_sampling_guide_snippet_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(doc_snippet(PAGE, "sampling"), PAGE, "exec"), namespace)
    assert namespace["new"].shape == (16, 32, 32, 3)
    assert os.path.exists(tmp_path / "runs/readme/sampler.json") and os.path.exists(tmp_path / "runs/readme/strip.png")
    psnr_value, ssim_value = map(float, capsys.readouterr().out.split())
    assert 0 < psnr_value < 60 and -1 <= ssim_value <= 1
