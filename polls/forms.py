from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

FORMATS = [
    ("auto", "Detect from the file"),
    ("qualtrics", "Qualtrics (CSV, TSV or XLSX)"),
    ("surveymonkey", "SurveyMonkey"),
    ("forms", "Microsoft Forms or Google Forms"),
    ("csv", "Plain CSV, one header row"),
    ("xlsx", "Plain XLSX, one header row"),
]


class UploadForm(forms.Form):
    # Empty files reach clean_file, which names them, rather than Django's unnamed message.
    file = forms.FileField(allow_empty_file=True, help_text="A response export: CSV, TSV or XLSX.")
    title = forms.CharField(
        max_length=200,
        help_text="If the project already has a poll of this title, the responses are added to it.",
    )
    format = forms.ChoiceField(choices=FORMATS, initial="auto")
    population = forms.CharField(
        max_length=100, required=False, help_text='Who answered, for captions: "Social Workers".'
    )
    opened = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    closed = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    invited = forms.IntegerField(required=False, min_value=0)
    include_previews = forms.BooleanField(
        required=False, help_text="Keep Qualtrics preview, test and spam responses."
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.VERBATIM_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"{upload.name} is {filesizeformat(upload.size)}; the limit is "
                f"{filesizeformat(limit)}."
            )
        if upload.size == 0:
            raise forms.ValidationError(f"{upload.name} is empty.")
        return upload

    def clean(self):
        data = super().clean()
        opened, closed = data.get("opened"), data.get("closed")
        if opened and closed and closed < opened:
            self.add_error("closed", "The poll cannot close before it opened.")
        return data

    def pending_options(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"].strip(),
            "format": data["format"],
            "population": data["population"].strip(),
            "opened": data["opened"].isoformat() if data["opened"] else None,
            "closed": data["closed"].isoformat() if data["closed"] else None,
            "invited": data["invited"],
            "include_previews": data["include_previews"],
        }
