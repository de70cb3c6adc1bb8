import json

from tfface.cli.main import main
from tfface.presets import load_all


def test_presets_lists_every_preset_with_latent_size(capsys):
    assert main(["presets", "--no-params", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert set(rows) == set(load_all().names())
    assert rows["r002_anime_vae"]["latent"] == 512 and rows["r002_anime_vae"]["input"] == "64x64"
    assert rows["r004_ae_latent_4"]["latent"] == 4 and rows["r004_ae_latent_4"]["report"].startswith("004")


def test_presets_table_shows_parameter_counts(capsys, monkeypatch):
    # Building every preset takes seconds; two are enough to check the table.
    registry = load_all()
    names = ["r003_vae", "vae_tiny"]
    monkeypatch.setattr(registry, "items", lambda: iter((n, registry.get(n)) for n in names))
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert "latent" in out.splitlines()[0] and "params" in out.splitlines()[0]
    assert "2,053,907" in out and "30,643" in out
