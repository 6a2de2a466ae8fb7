import com.sun.mail.imap.IMAPFolder;
import jakarta.activation.DataHandler;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.ByteArrayDataSource;
import java.io.FileInputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A Jakarta Mail client for Elektromail's interop tests (tests/interop/jakarta_mail_test.ts,
 * jakarta_imap_test.ts); the IMAP steps are in {@link ImapSteps}.
 *
 * <p>Arguments are read left to right: {@code key=value} changes a setting for the steps after
 * it ({@code key=} removes it), any other word runs that step. Each step prints
 * {@code label.key=value} lines on stdout (label: the {@code as} setting, else the step's name;
 * backslash, CR and LF escaped as {@code \\}, {@code \r}, {@code \n}) and ends with
 * {@code label.ok=true} or {@code label.error=ExceptionClass: message}; a failed step does not
 * stop the next ones.
 *
 * <p>Settings: host, smtp-port, smtps-port, imap-port, imaps-port, user, password,
 * smtp (plain | starttls | smtps), imap (plain | starttls | imaps), trust (a PKCS12 truststore
 * used instead of the JVM's for this session), from, to, subject, text, html, attachment (a
 * file), filename, 8bit (true: allow8bitmime), folder, target, uid, as, timeout (seconds, IDLE
 * only), debug (any value: Jakarta Mail's protocol trace on stdout, for reading, not for tests).
 *
 * <p>Steps: send, login, read, read-all, flags, copy, move, expunge, append, create, rename,
 * delete, list, search, search-flags, status, idle.
 */
public final class ElektromailClient {
  private final Map<String, String> settings = new HashMap<>();
  private String label = "";
  private final ImapSteps imap = new ImapSteps(this);

  public static void main(String[] args) {
    ElektromailClient client = new ElektromailClient();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (eq > 0 && eq == arg.length() - 1) {
        client.settings.remove(arg.substring(0, eq));
      } else if (eq > 0) {
        client.settings.put(arg.substring(0, eq), arg.substring(eq + 1));
      } else {
        client.step(arg);
      }
    }
    System.out.flush();
  }

  private void step(String name) {
    label = settings.getOrDefault("as", name);
    settings.remove("as");
    try {
      switch (name) {
        case "send" -> send();
        case "login" -> imap.login();
        case "read" -> imap.read();
        case "read-all" -> imap.readAll();
        case "append" -> imap.append();
        case "rename" -> imap.rename();
        case "delete" -> imap.delete();
        case "flags" -> imap.flags();
        case "copy" -> imap.copy();
        case "move" -> imap.move();
        case "expunge" -> imap.expunge();
        case "create" -> imap.create();
        case "list" -> imap.list();
        case "search" -> imap.search();
        case "search-flags" -> imap.searchFlags();
        case "status" -> imap.status();
        case "idle" -> imap.idle();
        default -> throw new IllegalArgumentException("Unknown step " + name);
      }
      out("ok", "true");
    } catch (Exception e) {
      Throwable cause = e;
      StringBuilder text = new StringBuilder();
      while (cause != null) {
        if (text.length() > 0) text.append(" <- ");
        text.append(cause.getClass().getSimpleName()).append(": ").append(cause.getMessage());
        cause = cause.getCause() == cause ? null : cause.getCause();
      }
      out("error", text.toString());
    }
    System.out.flush();
  }

  /** Prints {@code label.key=value} for the running step. */
  void out(String key, Object value) {
    String text = String.valueOf(value)
        .replace("\\", "\\\\")
        .replace("\r", "\\r")
        .replace("\n", "\\n");
    System.out.println(label + "." + key + "=" + text);
  }

  /** Whether the setting is there. */
  boolean has(String key) {
    return settings.containsKey(key);
  }

  /** The setting, which must be there. */
  String get(String key) {
    String value = settings.get(key);
    if (value == null) throw new IllegalArgumentException("Missing setting " + key);
    return value;
  }

  /** Session properties shared by SMTP and IMAP: timeouts, TLS identity check, trust. */
  private Properties baseProperties() throws Exception {
    Properties props = new Properties();
    for (String protocol : List.of("smtp", "smtps", "imap", "imaps")) {
      props.put("mail." + protocol + ".connectiontimeout", "10000");
      props.put("mail." + protocol + ".timeout", "20000");
      props.put("mail." + protocol + ".ssl.checkserveridentity", "true");
    }
    String trust = settings.get("trust");
    if (trust != null) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      try (FileInputStream in = new FileInputStream(trust)) {
        store.load(in, "changeit".toCharArray());
      }
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(store);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, factory.getTrustManagers(), null);
      for (String protocol : List.of("smtp", "smtps", "imap", "imaps")) {
        props.put("mail." + protocol + ".ssl.socketFactory", context.getSocketFactory());
        // Else a failed handshake is retried with the JVM's default factory.
        props.put("mail." + protocol + ".socketFactory.fallback", "false");
      }
    }
    return props;
  }

  // --- SMTP -------------------------------------------------------------------------------

  /** Transport.send of text + HTML alternative + one attachment, UTF-8 subject. */
  private void send() throws Exception {
    Properties props = baseProperties();
    String mode = settings.getOrDefault("smtp", "plain");
    String protocol = mode.equals("smtps") ? "smtps" : "smtp";
    props.put("mail.transport.protocol", protocol);
    props.put("mail.transport.protocol.rfc822", protocol);
    props.put("mail." + protocol + ".host", get("host"));
    props.put("mail." + protocol + ".port", get(mode.equals("smtps") ? "smtps-port" : "smtp-port"));
    props.put("mail." + protocol + ".auth", String.valueOf(settings.containsKey("user")));
    if (mode.equals("starttls")) {
      props.put("mail.smtp.starttls.enable", "true");
      props.put("mail.smtp.starttls.required", "true");
    }
    // Quoted-printable text parts go as 8bit when the server offers 8BITMIME.
    props.put("mail." + protocol + ".allow8bitmime", settings.getOrDefault("8bit", "false"));
    Session session = Session.getInstance(props);
    if (settings.containsKey("debug")) session.setDebug(true);

    MimeMessage message = new MimeMessage(session);
    message.setFrom(new InternetAddress(get("from"), "Jakarta Sender", "UTF-8"));
    message.setRecipients(Message.RecipientType.TO, InternetAddress.parse(get("to")));
    message.setSubject(get("subject"), "UTF-8");
    message.setSentDate(new Date());

    MimeMultipart alternative = new MimeMultipart("alternative");
    MimeBodyPart text = new MimeBodyPart();
    text.setText(get("text"), "UTF-8");
    alternative.addBodyPart(text);
    MimeBodyPart html = new MimeBodyPart();
    html.setText(get("html"), "UTF-8", "html");
    alternative.addBodyPart(html);
    MimeBodyPart body = new MimeBodyPart();
    body.setContent(alternative);

    MimeBodyPart attachment = new MimeBodyPart();
    byte[] bytes = Files.readAllBytes(Path.of(get("attachment")));
    attachment.setDataHandler(
        new DataHandler(new ByteArrayDataSource(bytes, "application/octet-stream")));
    attachment.setFileName(get("filename"));
    attachment.setDisposition(Part.ATTACHMENT);

    MimeMultipart mixed = new MimeMultipart();
    mixed.addBodyPart(body);
    mixed.addBodyPart(attachment);
    message.setContent(mixed);
    message.saveChanges();

    if (settings.containsKey("user")) {
      Transport.send(message, get("user"), get("password"));
    } else {
      Transport.send(message);
    }
    out("message-id", message.getMessageID());
  }

  // --- IMAP -------------------------------------------------------------------------------

  interface StoreAction {
    void run(Store store) throws Exception;
  }

  interface FolderAction {
    void run(IMAPFolder folder) throws Exception;
  }

  /** Store.connect with the imap setting's protocol; closes the store afterwards. */
  void withStore(StoreAction action) throws Exception {
    withStore(null, action);
  }

  /** The same, with Jakarta Mail's protocol trace written to {@code trace} (when not null). */
  void withStore(OutputStream trace, StoreAction action) throws Exception {
    Properties props = baseProperties();
    String mode = settings.getOrDefault("imap", "plain");
    String protocol = mode.equals("imaps") ? "imaps" : "imap";
    if (mode.equals("starttls")) {
      props.put("mail.imap.starttls.enable", "true");
      props.put("mail.imap.starttls.required", "true");
    }
    Session session = Session.getInstance(props);
    if (trace != null) {
      session.setDebugOut(new PrintStream(trace, true));
      session.setDebug(true);
    }
    if (settings.containsKey("debug")) session.setDebug(true);
    Store store = session.getStore(protocol);
    int port = Integer.parseInt(get(mode.equals("imaps") ? "imaps-port" : "imap-port"));
    store.connect(get("host"), port, get("user"), get("password"));
    try {
      action.run(store);
    } finally {
      store.close();
    }
  }

  /** Opens the folder setting (INBOX by default) READ_WRITE, closes it without expunging. */
  void withFolder(FolderAction action) throws Exception {
    withFolder(null, action);
  }

  /** The same, with a protocol trace as in {@link #withStore(OutputStream, StoreAction)}. */
  void withFolder(OutputStream trace, FolderAction action) throws Exception {
    withStore(trace, store -> {
      IMAPFolder folder = (IMAPFolder) store.getFolder(settings.getOrDefault("folder", "INBOX"));
      folder.open(Folder.READ_WRITE);
      try {
        action.run(folder);
      } finally {
        if (folder.isOpen()) folder.close(false);
      }
    });
  }

  /** The message with the uid setting's UID. */
  Message byUid(IMAPFolder folder) throws MessagingException {
    long uid = Long.parseLong(get("uid"));
    Message message = folder.getMessageByUID(uid);
    if (message == null) throw new IllegalStateException("No message with UID " + uid);
    return message;
  }
}
