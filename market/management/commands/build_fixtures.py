"""Write fixtures/*.json from the sourced reference CSVs (shared/refdata).

Run once when the reference data changes; the JSON files are committed and loaded by
`loaddata` (natural keys, so primary keys never matter). Network links are derived from
coordinates by the same rules as `derive_links` (market/geo.py).
"""

import csv
import json
import re
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from market import geo

STACKS = {
    "CUDA": ("NVIDIA CUDA", "NVIDIA"),
    "ROCm": ("AMD ROCm", "AMD"),
    "CANN": ("Huawei CANN (Ascend)", "Huawei"),
    "NEUWARE": ("Cambricon NeuWare / BANG", "Cambricon"),
    "DTK": ("Hygon DTK (ROCm/HIP-compatible)", "Hygon"),
    "XPU": ("Kunlunxin XPU SDK / XDNN / XCCL", "Kunlunxin"),
    "MUSA": ("Moore Threads MUSA", "Moore Threads"),
    "BIRENSUPA": ("Biren BIRENSUPA", "Biren"),
    "X86": ("x86-64 server CPUs", ""),
    "ARM": ("Arm server CPUs (Kunpeng BoostKit / openEuler)", ""),
}

# Profile weights and data intensities are operator settings; these are the defaults.
PROFILES = [
    {
        "code": "train",
        "name_en": "Training",
        "name_zh": "训练",
        "chip_kind": "accelerator",
        "reference": "nvidia-a100-80gb-sxm",
        "primary": ["bf16_tflops", "fp16_tflops"],
        "primary_weight": "0.6",
        "secondary": {"memory_bandwidth_gbs": 0.3, "memory_gb": 0.1},
        "intensity": "0.05",
        "description": "Model training on staged data: dense BF16 (else FP16) "
        "throughput, "
        "memory bandwidth and size.",
    },
    {
        "code": "infer",
        "name_en": "Inference",
        "name_zh": "推理",
        "chip_kind": "accelerator",
        "reference": "nvidia-a100-80gb-sxm",
        "primary": ["int8_tops", "fp16_tflops"],
        "primary_weight": "0.4",
        "secondary": {"memory_bandwidth_gbs": 0.4, "memory_gb": 0.2},
        "intensity": "0.2",
        "description": "Inference serving: INT8 (else FP16) throughput; decoding is "
        "bandwidth-bound, so bandwidth weighs as much.",
    },
    {
        "code": "hpc",
        "name_en": "High-performance computing",
        "name_zh": "高性能计算",
        "chip_kind": "accelerator",
        "reference": "nvidia-a100-80gb-sxm",
        "primary": ["fp64_tflops"],
        "primary_weight": "0.7",
        "secondary": {"memory_bandwidth_gbs": 0.3},
        "intensity": "1.0",
        "description": "Scientific computing: FP64 vector rate and memory bandwidth.",
    },
    {
        "code": "render",
        "name_en": "Rendering",
        "name_zh": "渲染",
        "chip_kind": "accelerator",
        "reference": "nvidia-a100-80gb-sxm",
        "primary": ["fp32_tflops"],
        "primary_weight": "0.7",
        "secondary": {"memory_bandwidth_gbs": 0.2, "memory_gb": 0.1},
        "intensity": "0.3",
        "description": "Rendering: FP32 throughput; scenes staged at the site, "
        "frames sent back.",
    },
    {
        "code": "cpu",
        "name_en": "General-purpose CPU",
        "name_zh": "通用计算",
        "chip_kind": "cpu",
        "reference": "intel-xeon-platinum-8480",
        "primary": ["fp64_tflops"],
        "primary_weight": "0.8",
        "secondary": {"memory_bandwidth_gbs": 0.2},
        "intensity": "0.5",
        "description": "General-purpose CPU work, relative to one Intel Xeon Platinum "
        "8480+ socket (FP64 peak and memory bandwidth).",
    },
]

CHIP_COLUMNS = {
    "memory_gb": "memory_gb",
    "memory_bandwidth_gbs": "memory_bandwidth_gbs",
    "fp64_tflops": "fp64_tflops",
    "fp32_tflops": "fp32_tflops",
    "tf32_tflops": "tf32_tflops",
    "bf16_tflops": "bf16_tflops_dense",
    "fp16_tflops": "fp16_tflops_dense",
    "int8_tops": "int8_tops_dense",
}


def stack_code(raw: str) -> str:
    head = raw.split(" ")[0].split("(")[0].upper()
    return {"ROCM": "ROCm", "NEUWARE": "NEUWARE"}.get(head, head)


def chip_code(vendor: str, model: str) -> str:
    vendor = re.sub(r"\(.*?\)", "", vendor)
    model = re.sub(r"\(.*?\)", "", model)
    return slugify(f"{vendor} {model}")


def hub_parts(raw: str) -> tuple[str, str, str]:
    zh, en = raw.split(" ", 1)
    return slugify(en), en, zh


def decimal_or_none(value: str) -> str | None:
    return str(Decimal(value)) if value.strip() else None


class Command(BaseCommand):
    help = "Write fixtures/*.json from the reference CSVs."

    def add_arguments(self, parser):
        parser.add_argument(
            "--refdata",
            default=str(Path(settings.BASE_DIR).parent.parent / "shared/refdata"),
        )
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "fixtures"))

    def handle(self, *args, refdata: str, out: str, **options):
        src, dst = Path(refdata), Path(out)
        if not (src / "chips.csv").exists():
            raise CommandError(f"No chips.csv in {src}")
        regions = list(csv.DictReader((src / "regions.csv").open(encoding="utf-8")))
        chips = list(csv.DictReader((src / "chips.csv").open(encoding="utf-8")))
        self._write(dst / "01_stacks.json", self._stacks())
        self._write(dst / "02_hubs_regions.json", self._regions(regions))
        self._write(dst / "03_chips.json", self._chips(chips))
        self._write(dst / "04_profiles.json", self._profiles())
        self._write(dst / "05_links.json", self._links(regions))

    def _write(self, path: Path, rows: list[dict]) -> None:
        path.write_text(
            json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        self.stdout.write(f"{path.name}: {len(rows)} rows")

    def _stacks(self) -> list[dict]:
        return [
            {
                "model": "market.softwarestack",
                "fields": {"code": c, "name": n, "vendor": v},
            }
            for c, (n, v) in STACKS.items()
        ]

    def _regions(self, regions: list[dict]) -> list[dict]:
        hubs: dict[str, dict] = {}
        rows = []
        for r in regions:
            code, en, zh = hub_parts(r["hub"])
            hubs[code] = {
                "model": "market.hub",
                "fields": {"code": code, "name_en": en, "name_zh": zh},
            }
            green = r["green_power_share_pct"].strip()
            rows.append(
                {
                    "model": "market.region",
                    "fields": {
                        "code": r["code"],
                        "name_en": r["name_en"],
                        "name_zh": r["name_zh"],
                        "province": r["province"],
                        "hub": [code],
                        "role": r["role"],
                        "lat": r["lat"],
                        "lon": r["lon"],
                        "electricity_price_cny_per_kwh": r[
                            "industrial_electricity_price_cny_per_kwh"
                        ],
                        "carbon_intensity_kg_per_kwh": r[
                            "grid_carbon_intensity_kgco2_per_kwh"
                        ],
                        "green_share": str(Decimal(green) / 100) if green else None,
                        "pue": r["typical_pue"],
                        # Data stays within its hub's economic zone (数据不出域).
                        "residency_zone": code,
                        "source": r["source"],
                        "unverified_fields": r["unverified_fields"],
                        "notes": r["notes"],
                    },
                }
            )
        return list(hubs.values()) + rows

    def _chips(self, chips: list[dict]) -> list[dict]:
        rows = []
        for c in chips:
            stack = stack_code(c["software_stack"])
            fields = {
                "code": chip_code(c["vendor"], c["model"]),
                "vendor": c["vendor"],
                "model": c["model"],
                "kind": "cpu" if stack in ("X86", "ARM") else "accelerator",
                "architecture": c["architecture_family"],
                "stack": [stack],
                "tdp_w": int(c["tdp_w"]) if c["tdp_w"].strip() else None,
                "release_year": int(c["release_year"])
                if c["release_year"].strip()
                else None,
                "source": c["source"],
                "unverified_fields": c["unverified_fields"],
                "notes": c["notes"],
            }
            fields |= {f: decimal_or_none(c[col]) for f, col in CHIP_COLUMNS.items()}
            rows.append({"model": "market.chipmodel", "fields": fields})
        return rows

    def _profiles(self) -> list[dict]:
        return [
            {
                "model": "market.workloadprofile",
                "fields": {
                    "code": p["code"],
                    "name_en": p["name_en"],
                    "name_zh": p["name_zh"],
                    "chip_kind": p["chip_kind"],
                    "reference_chip": [p["reference"]],
                    "primary_metrics": p["primary"],
                    "primary_weight": p["primary_weight"],
                    "secondary_weights": p["secondary"],
                    "data_intensity_gb_per_scu_h": p["intensity"],
                    "description": p["description"],
                },
            }
            for p in PROFILES
        ]

    def _links(self, regions: list[dict]) -> list[dict]:
        rows = []
        for a in regions:
            for b in regions:
                if a["code"] == b["code"]:
                    continue
                km = geo.great_circle_km(
                    Decimal(a["lat"]),
                    Decimal(a["lon"]),
                    Decimal(b["lat"]),
                    Decimal(b["lon"]),
                )
                rows.append(
                    {
                        "model": "market.networklink",
                        "fields": {
                            "from_region": [a["code"]],
                            "to_region": [b["code"]],
                            "latency_ms": str(geo.latency_ms(km)),
                            "transfer_cny_per_gb": str(
                                geo.transfer_cny_per_gb(
                                    km, same_hub=a["hub"] == b["hub"]
                                )
                            ),
                            "derived": True,
                        },
                    }
                )
        return rows
