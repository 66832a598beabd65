import { BeepError } from "@beep/errors";
import type { AccountRepository, AccountRow } from "./account.repository.ts";
import { requireLanguage, requirePhone } from "./contact-input.ts";
import type { OneTimeCodeRepository } from "./one-time-code.repository.ts";

/** The caller's language and phone as the API shows them. */
export interface ContactSettingsView {
  language: string;
  phone: string;
}

const view = (row: AccountRow): ContactSettingsView => ({ language: row.language, phone: row.phone ?? "" });

/** Language (AUTH-9) and phone number of the caller's own account. */
export class ContactSettingsService {
  constructor(
    private readonly accounts: AccountRepository,
    private readonly repo: OneTimeCodeRepository,
  ) {}

  /** The caller's settings. */
  async get(accountId: string): Promise<ContactSettingsView> {
    const row = await this.accounts.findById(accountId);
    if (!row) throw new BeepError("UNAUTHENTICATED", "Account no longer exists");
    return view(row);
  }

  /** Changes the settings that are set; an empty phone removes it. */
  async update(
    accountId: string,
    input: { language?: string; phone?: string },
  ): Promise<ContactSettingsView> {
    const changes = {
      ...(input.language !== undefined && { language: requireLanguage(input.language) }),
      ...(input.phone !== undefined && { phone: input.phone.trim() ? requirePhone(input.phone) : null }),
    };
    const result = await this.repo.updateContact(accountId, changes);
    if (result.conflict)
      throw new BeepError("CONFLICT", "phone is already used by another account", { field: "phone" });
    if (!result.row) throw new BeepError("UNAUTHENTICATED", "Account no longer exists");
    return view(result.row);
  }
}
