import os

from tests.test_readme import readme_snippet


def test_readme_sampling_snippet_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(readme_snippet("sampling"), "README.md", "exec"), namespace)
    assert namespace["new"].shape == (16, 32, 32, 3)
    assert os.path.exists(tmp_path / "runs/readme/strip.png") and os.path.exists(tmp_path / "runs/readme/sampler.json")
    psnr_value, ssim_value = map(float, capsys.readouterr().out.split())
    assert 0 < psnr_value < 60 and -1 <= ssim_value <= 1
