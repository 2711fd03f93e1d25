"""Django admin for users, teams, API tokens and failed logins; writes go through services."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from vefa.accounts import services
from vefa.accounts.choices import Role
from vefa.accounts.models import ApiToken, LoginFailure, Team, User
from vefa.common.errors import ApplicationError


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(services.time_zones())]


def _language_choices() -> list[tuple[str, str]]:
    return [("", gettext("As the browser asks")), *((c, str(n)) for c, n in settings.LANGUAGES)]


class UserAdminForm(forms.ModelForm):
    """Create or edit a user; the checks match the services', so saving cannot fail late."""

    language = forms.ChoiceField(label=_("language"), required=False)
    time_zone = forms.ChoiceField(label=_("time zone"), initial="UTC")

    class Meta:
        model = User
        fields = ["email", "full_name", "role", "team", "language", "time_zone"]

    def __init__(self, *args: Any, actor: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        cast(forms.ChoiceField, self.fields["language"]).choices = _language_choices()
        cast(forms.ChoiceField, self.fields["time_zone"]).choices = _time_zone_choices()

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).strip().lower()
        others = User.objects.filter(email__iexact=email)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
            is_self = self.actor is not None and self.actor.pk == self.instance.pk
            if is_self and email != self.instance.email:
                raise ValidationError(
                    _("Change your own e-mail on your profile page; it asks for your password.")
                )
        if others.exists():
            raise ValidationError(_("A user with this e-mail already exists."))
        return email

    def clean_role(self) -> str:
        role = str(self.cleaned_data["role"])
        is_self = self.actor is not None and self.instance.pk == self.actor.pk
        if is_self and self.instance.is_admin and role != Role.ADMIN:
            raise ValidationError(_("You cannot take away your own administrator role."))
        return role


class UserAddForm(UserAdminForm):
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to create a user who cannot log in until a password is set."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password = data.get("password")
        if password:
            probe = User(email=data.get("email", ""), full_name=data.get("full_name", ""))
            try:
                validate_password(password, probe)
            except ValidationError as exc:
                self.add_error("password", exc)
        return data


class SetPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    form = UserAdminForm
    add_form = UserAddForm
    change_list_template = "accounts/admin/user_change_list.html"
    change_form_template = "accounts/admin/user_change_form.html"
    list_display = ["full_name", "email", "role", "team", "is_active", "last_login"]
    list_filter = ["role", "team", "is_active"]
    search_fields = ["full_name", "email"]
    ordering = ["full_name", "id"]
    list_select_related = ["team"]
    actions = ["deactivate", "activate"]
    readonly_fields = ["is_active", "last_login", "date_joined"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = self.add_form
            kwargs["fields"] = [*UserAdminForm.Meta.fields, "password"]
        else:
            kwargs["fields"] = UserAdminForm.Meta.fields
        form_class = super().get_form(request, obj, change=change, **kwargs)
        actor = request.user

        class BoundActorForm(form_class):  # type: ignore[valid-type,misc]
            def __init__(self, *args: Any, **inner: Any) -> None:
                super().__init__(*args, actor=actor, **inner)

        return BoundActorForm

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [(None, {"fields": [*UserAdminForm.Meta.fields, "password"]})]
        return [
            (None, {"fields": UserAdminForm.Meta.fields}),
            (_("Status"), {"fields": ["is_active", "last_login", "date_joined"]}),
        ]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Users own records and appear in the change log: deactivate them instead.
        return False

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        actor: User = request.user  # type: ignore[assignment]
        data = form.cleaned_data
        if change:
            fields = [f for f in form.changed_data if f in services.USER_ADMIN_FIELDS]
            services.user_update(actor=actor, user=obj, data={f: data[f] for f in fields})
        else:
            created = services.user_create(
                actor=actor,
                email=data["email"],
                full_name=data["full_name"],
                password=data.get("password") or None,
                role=data["role"],
                team=data.get("team"),
                language=data.get("language", ""),
                time_zone=data.get("time_zone", "UTC"),
            )
            obj.pk = created.pk
        obj.refresh_from_db()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Roles, not Django groups, decide access; there is nothing else to save.
        return None

    @admin.action(description=_("Deactivate the selected users (ends their sessions and tokens)"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_active(request, queryset, active=False)

    @admin.action(description=_("Activate the selected users"))
    def activate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_active(request, queryset, active=True)

    def _set_active(self, request: HttpRequest, queryset: QuerySet[User], *, active: bool) -> None:
        actor: User = request.user  # type: ignore[assignment]
        done = 0
        for user in queryset:
            try:
                services.user_set_active(actor=actor, user=user, active=active)
            except ApplicationError as exc:
                self.message_user(request, f"{user}: {exc.message}", messages.ERROR)
            else:
                done += 1
        if done:
            text = (
                gettext("%(n)d users activated.") if active else gettext("%(n)d users deactivated.")
            )
            self.message_user(request, text % {"n": done}, messages.SUCCESS)

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "<int:pk>/password/",
                self.admin_site.admin_view(self.set_password_view),
                name="accounts_user_password",
            )
        ]
        return [*extra, *super().get_urls()]

    def set_password_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Set a user's password (they forgot it); ends all their sessions."""
        actor: User = request.user  # type: ignore[assignment]
        user = User.objects.filter(pk=pk).first()
        if user is None or not self.has_change_permission(request, user):
            raise Http404(gettext("Not found."))
        form = SetPasswordForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                services.user_set_password(
                    actor=actor, user=user, password=form.cleaned_data["password"]
                )
            except ApplicationError as exc:
                for field, errors in exc.fields.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                self.message_user(
                    request, gettext("The password of %(user)s is set.") % {"user": user}
                )
                return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Set the password of %(user)s") % {"user": user},
            "form": form,
            "original": user,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "accounts/admin/set_password.html", context)

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> HttpResponse:
        obj = context.get("original")
        if obj is not None:
            context["password_url"] = reverse("admin:accounts_user_password", args=[obj.pk])
        return super().render_change_form(request, context, *args, **kwargs)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    fields = ["name"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Customers and leads keep their team; rename a team rather than delete it.
        return False

    def save_model(self, request: HttpRequest, obj: Team, form: Any, change: bool) -> None:
        actor: User = request.user  # type: ignore[assignment]
        if change:
            services.team_rename(actor=actor, team=obj, name=form.cleaned_data["name"])
        else:
            obj.pk = services.team_create(actor=actor, name=form.cleaned_data["name"]).pk
        obj.refresh_from_db()


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "user",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__email", "user__full_name"]
    list_select_related = ["user"]
    exclude = ["key_hash"]
    actions = ["revoke"]

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        actor: User = request.user  # type: ignore[assignment]
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            services.api_token_revoke(actor=actor, token=token)
            count += 1
        self.message_user(
            request, gettext("%(n)d tokens revoked.") % {"n": count}, messages.SUCCESS
        )


@admin.register(LoginFailure)
class LoginFailureAdmin(ReadOnlyAdmin):
    list_display = ["email", "ip_address", "time"]
    search_fields = ["email", "ip_address"]
    date_hierarchy = "time"
    actions = ["unblock"]

    @admin.action(description=_("Unblock the e-mails of the selected failures"))
    def unblock(self, request: HttpRequest, queryset: QuerySet[LoginFailure]) -> None:
        emails = sorted(set(queryset.values_list("email", flat=True)))
        for email in emails:
            services.login_failures_clear(email=email)
        self.message_user(
            request, gettext("%(n)d e-mails unblocked.") % {"n": len(emails)}, messages.SUCCESS
        )
