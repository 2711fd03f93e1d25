"""Forms of the import wizard: the upload, the column mapping and the file layout."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vefa.imports.models import OnMatch
from vefa.imports.readers import DELIMITERS, ENCODING_LABELS

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.imports.entities.base import EntityAdapter

ACCEPT = (
    ".csv,.txt,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)
DELIMITER_LABELS = {
    ",": gettext_lazy("Comma (,)"),
    ";": gettext_lazy("Semicolon (;)"),
    "\t": gettext_lazy("Tab"),
    "|": gettext_lazy("Vertical bar (|)"),
}
# A field picker's "not imported" choice.
IGNORE = ""


def importable_entities(actor: User) -> list[tuple[str, str]]:
    """(entity, label) of every kind of record the actor may import, in a fixed order."""
    from vefa.imports.entities import adapter_for, entities

    order = ["customers", "contacts", "leads", "products", "orders", "interactions", "tickets"]
    names = sorted(entities(), key=lambda n: (order.index(n) if n in order else 99, n))
    choices = []
    for name in names:
        adapter = adapter_for(name)
        if adapter.can_import(actor):
            choices.append((name, str(adapter.label)))
    return choices


class UploadForm(forms.Form):
    entity = forms.ChoiceField(label=gettext_lazy("What the file holds"))
    file = forms.FileField(
        label=gettext_lazy("File (CSV or Excel .xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    source = forms.CharField(
        label=gettext_lazy("Source (optional)"),
        max_length=100,
        required=False,
        help_text=gettext_lazy(
            "Where the file comes from, e.g. “Web shop export”. A mapping saved for this "
            "source is applied to files with the same columns."
        ),
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["entity"].choices = importable_entities(actor)  # type: ignore[attr-defined]

    def clean_file(self) -> Any:
        from vefa.imports import services

        upload = self.cleaned_data.get("file")
        if upload is None:
            return upload
        limit = services.MAX_FILE_BYTES
        if upload.size is not None and upload.size > limit:
            raise forms.ValidationError(
                _("The file is larger than %(size)d MB. Split it into smaller files.")
                % {"size": limit // (1024 * 1024)}
            )
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload


class LayoutForm(forms.Form):
    """The detected encoding and delimiter of a CSV, which a person may correct."""

    encoding = forms.ChoiceField(
        label=gettext_lazy("Encoding"), choices=list(ENCODING_LABELS.items())
    )
    delimiter = forms.ChoiceField(
        label=gettext_lazy("Delimiter"),
        choices=[(d, DELIMITER_LABELS.get(d, d)) for d in DELIMITERS],
    )


class MappingForm(forms.Form):
    """One field picker per file column, the match key, what to do on a match and the source
    name to save the mapping under. Column pickers are named ``col-<index>``."""

    match_key = forms.ChoiceField(label=gettext_lazy("Match existing records on"), required=False)
    on_match = forms.ChoiceField(
        label=gettext_lazy("When a row matches an existing record"),
        choices=OnMatch.choices,
        widget=forms.RadioSelect,
    )
    source = forms.CharField(
        label=gettext_lazy("Save this mapping for source"),
        max_length=100,
        required=False,
    )

    def __init__(
        self, *args: Any, adapter: EntityAdapter, headers: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.headers = headers
        self.adapter = adapter
        keys = [(IGNORE, _("Never match: always create"))]
        specs = adapter.field_map()
        for key, name in adapter.match_keys.items():
            spec = specs.get(name)
            keys.append((key, str(spec.label) if spec else key))
        self.fields["match_key"].choices = keys  # type: ignore[attr-defined]
        field_choices = [(IGNORE, _("— not imported —"))]
        field_choices += [
            (f.name, f"{f.label}{' *' if f.required else ''}") for f in adapter.fields
        ]
        for index, _header in enumerate(headers):
            self.fields[f"col-{index}"] = forms.ChoiceField(
                choices=field_choices, required=False, label=_header
            )

    def column_fields(self) -> list[tuple[int, str, forms.BoundField]]:
        return [(i, h, self[f"col-{i}"]) for i, h in enumerate(self.headers)]

    def columns(self) -> dict[str, str]:
        """{column header: field name} of the mapped columns."""
        mapping: dict[str, str] = {}
        for index, header in enumerate(self.headers):
            value = self.cleaned_data.get(f"col-{index}") or ""
            if value:
                mapping[header] = value
        return mapping

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        used: dict[str, str] = {}
        for index, header in enumerate(self.headers):
            value = data.get(f"col-{index}") or ""
            if not value:
                continue
            if value in used:
                self.add_error(
                    f"col-{index}",
                    _("“%(other)s” goes to this field already.") % {"other": used[value]},
                )
            else:
                used[value] = header
        if not used and self.headers:
            self.add_error(None, _("Map at least one column to a field."))
        return data
