"""Content packs: a course specialization as a folder of YAML and Markdown.

    pack.yaml                       format, the specialization, course folders in order, interviews file
    description.md                  specialization description
    interviews.yaml                 Heroes of Deep Learning interviews
    courses/<slug>/course.yaml      course, weeks, items
    courses/<slug>/readings/*.md    reading bodies
    courses/<slug>/videos/*.mp4     optional recorded videos (otherwise one is rendered from the captions)

Loading validates everything and collects every error with its file and line before anything is
written; `pack_apply` then writes it in one transaction. Export writes the same format back, so
import → export → import is lossless.

    format.py        the dataclasses a loaded pack is made of, the allowed keys, FORMAT_VERSION, PackError
    bounded_yaml.py  the YAML loader every pack file (and every other YAML the project reads) goes through:
                     bounded size, depth and alias expansion, with the line of every key and item
    load.py          load_pack: read and validate a folder
    write.py         write_pack: write a loaded pack back out
    apply.py         pack_plan / pack_apply / pack_export: the database side

Other apps reach these through `courses.api`.
"""

from .apply import PackReport, pack_apply, pack_export, pack_plan
from .format import FORMAT_VERSION, SLUG_RE, PackData, PackError
from .load import load_pack
from .write import write_pack

__all__ = [
    "FORMAT_VERSION",
    "SLUG_RE",
    "PackData",
    "PackError",
    "PackReport",
    "load_pack",
    "pack_apply",
    "pack_export",
    "pack_plan",
    "write_pack",
]
