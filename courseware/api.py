"""The courseware app's public door: other apps import only this module.

Courseware serves the learner's course pages; other apps plug their item kinds into them through
courses.api (register_item_view), so there is little to offer here beyond the file response that
protected downloads share.
"""

from __future__ import annotations

from .http import protected_file_response

__all__ = ["protected_file_response"]
