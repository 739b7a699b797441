"""Fulfilment settings (environment, prefix ``RIFF_``), kept apart from the process-wide ``Settings``.

DHL credentials, the account number and the shipper's address come from the environment; label files live
under ``Settings.data_dir / "labels"`` (``riff.fulfilment.documents``). ``RIFF_ALERT_URLS`` holds apprise URLs (they often embed tokens: secret).
Every variable is listed in docs/fulfilment.md.
"""

from __future__ import annotations

import functools
from decimal import Decimal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from riff.carriers.contract import Parcel, Party
from riff.carriers.dhl import consts as dhl


class FulfilmentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RIFF_", env_file=".env", extra="ignore")

    dhl_base_url: str = Field(
        dhl.TEST_BASE_URL, description="MyDHL API base URL (test, production or a sandbox)"
    )
    dhl_api_key: str | None = Field(None, description="MyDHL API key (HTTP Basic user)")
    dhl_api_secret: SecretStr | None = Field(None, description="MyDHL API secret (HTTP Basic password)")
    dhl_account_number: str | None = Field(None, description="DHL Express shipper account number")

    shipper_company: str = Field("RIFF Demo Vintage", description="Shipper company on labels")
    shipper_name: str = Field("Shipping desk", description="Shipper contact person")
    shipper_email: str | None = Field(None, description="Shipper e-mail")
    shipper_phone: str = Field("+44 20 7946 0000", description="Shipper phone (DHL requires one)")
    shipper_address1: str = Field("1 Denmark Street", description="Shipper address line 1")
    shipper_address2: str | None = Field(None, description="Shipper address line 2")
    shipper_city: str = Field("London", description="Shipper city")
    shipper_postcode: str = Field("WC2H 8LP", description="Shipper postcode")
    shipper_country: str = Field("GB", min_length=2, max_length=2, description="Shipper ISO country code")
    shipper_vat: str | None = Field(None, description="Shipper VAT number (customs)")
    shipper_eori: str | None = Field(None, description="Shipper EORI number (customs)")

    default_weight_kg: Decimal = Field(Decimal("5.0"), gt=0, description="Parcel weight the form starts with")
    default_length_cm: Decimal = Field(Decimal("120"), gt=0)
    default_width_cm: Decimal = Field(Decimal("50"), gt=0)
    default_height_cm: Decimal = Field(Decimal("15"), gt=0)
    default_contents: str = Field("Musical instrument", description="Contents description on labels")
    default_hs_code: str = Field("9202900030", description="HS code the customs form starts with (guitars)")

    alert_urls: SecretStr | None = Field(
        None,
        description="apprise URLs for alerts, separated by spaces or commas (e.g. mailtos://..., json://...)",
    )
    tracking_upload_max_attempts: int = Field(30, ge=1, description="Tries to upload a tracking number")

    @property
    def dhl_configured(self) -> bool:
        return bool(self.dhl_api_key and self.dhl_api_secret and self.dhl_account_number)

    def shipper(self) -> Party:
        return Party(
            name=self.shipper_name,
            company=self.shipper_company,
            line1=self.shipper_address1,
            line2=self.shipper_address2,
            city=self.shipper_city,
            postal_code=self.shipper_postcode,
            country_code=self.shipper_country.upper(),
            email=self.shipper_email,
            phone=self.shipper_phone,
            vat_number=self.shipper_vat,
            eori_number=self.shipper_eori,
        )

    def default_parcel(self) -> Parcel:
        return Parcel(
            weight_kg=self.default_weight_kg,
            length_cm=self.default_length_cm,
            width_cm=self.default_width_cm,
            height_cm=self.default_height_cm,
        )

    def alert_url_list(self) -> list[str]:
        if self.alert_urls is None:
            return []
        raw = self.alert_urls.get_secret_value().replace(",", " ")
        return [url for url in raw.split() if url]


@functools.lru_cache(maxsize=1)
def get_fulfilment_settings() -> FulfilmentSettings:
    return FulfilmentSettings()


def reset_fulfilment_settings() -> None:
    """Tests and the CLI change the environment and then call this to re-read it."""
    get_fulfilment_settings.cache_clear()
