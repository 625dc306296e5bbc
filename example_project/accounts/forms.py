"""Sign-up and log-in forms: the email address is the login."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm


class SignUpForm(BaseUserCreationForm):
    """A new user (their email is their username) and the name of the team they start."""

    team_name = forms.CharField(
        label="Team name",
        max_length=200,
        help_text="Your team is the customer: its members share the subscription.",
    )

    class Meta:
        model = get_user_model()
        fields = ("email",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        # The team name first after the email, the passwords last.
        self.order_fields(["email", "team_name", "password1", "password2"])

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        user_model = get_user_model()
        taken = user_model._default_manager.filter(email__iexact=email).exists()
        if taken or user_model._default_manager.filter(username__iexact=email).exists():
            raise forms.ValidationError("An account with this email address already exists.")
        return email

    def save(self, commit: bool = True) -> Any:
        user = super().save(commit=False)
        user.username = user.email
        if commit:
            user.save()
        return user


class EmailAuthenticationForm(AuthenticationForm):
    """Django's log-in form, labelled for the email address we use as the username."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget.attrs["autocomplete"] = "email"
