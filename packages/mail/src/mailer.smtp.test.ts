import { createLogger } from "@beep/observability";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMailer } from "./create-mailer.ts";
import { renderMail } from "./templates.ts";

// A real SMTP server on loopback; each accepted message is parsed as a mail client would.
const received: Array<{ envelopeTo: string[]; mail: ParsedMail; auth?: string }> = [];
let server: SMTPServer;
let port = 0;

beforeAll(async () => {
  server = new SMTPServer({
    secure: false,
    disabledCommands: ["STARTTLS"],
    authOptional: true,
    onAuth(auth, _session, callback) {
      if (auth.username === "beep" && auth.password === "s3cret") callback(null, { user: auth.username });
      else callback(new Error("bad credentials"));
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          received.push({
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            mail,
            auth: session.user as string | undefined,
          });
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.server.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const logger = createLogger({ service: "mail-test", level: "silent" });

describe("smtp:// mailer against a real SMTP server", () => {
  it("delivers recipient, UTF-8 From name, subject, text and HTML", async () => {
    const mailer = createMailer({
      url: `smtp://beep:s3cret@127.0.0.1:${port}`,
      from: "Béatrice de Beep <no-reply@beep.test>",
      logBodies: false,
      env: "test",
      logger,
    });
    const rendered = renderMail("verifyEmail", "fr", {
      name: "Zoë Ångström",
      code: "123456",
      link: "https://beep.test/verify?token=abc",
      minutes: 10,
    });
    await mailer.send({ to: "zoe@example.org", ...rendered });
    await mailer.close();

    const last = received.at(-1);
    expect(last?.envelopeTo).toEqual(["zoe@example.org"]);
    expect(last?.auth).toBe("beep");
    const mail = last?.mail as ParsedMail;
    expect(mail.from?.value[0]).toEqual({ name: "Béatrice de Beep", address: "no-reply@beep.test" });
    expect(mail.subject).toBe("Votre code de vérification Beep : 123456");
    expect(mail.text).toContain("Bonjour Zoë Ångström,");
    expect(mail.text).toContain("https://beep.test/verify?token=abc");
    expect(mail.html).toContain("<p>Bonjour Zoë Ångström,</p>");
  });

  it("rejects with the recipient named when the server refuses the credentials", async () => {
    const mailer = createMailer({
      url: `smtp://beep:wrong@127.0.0.1:${port}`,
      from: "no-reply@beep.test",
      logBodies: false,
      env: "test",
      logger,
    });
    await expect(mailer.send({ to: "x@example.org", subject: "s", text: "t" })).rejects.toThrow(
      "send mail to x@example.org over SMTP",
    );
    await mailer.close();
  });
});

describe("createMailer", () => {
  it("refuses an unknown scheme", () => {
    expect(() =>
      createMailer({ url: "sendgrid://x", from: "a@b.c", logBodies: false, env: "test", logger }),
    ).toThrow('unknown scheme "sendgrid"');
  });

  it("escapes values in the HTML part and renders English", () => {
    const rendered = renderMail("signInCode", "en", { name: "<b>Eve</b>", code: "000042", minutes: 10 });
    expect(rendered.subject).toBe("Your Beep sign-in code: 000042");
    expect(rendered.html).toContain("&#60;b&#62;Eve&#60;/b&#62;");
    expect(rendered.text).toContain("Hello <b>Eve</b>,");
  });
});
