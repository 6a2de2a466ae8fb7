import com.sun.mail.imap.AppendUID;
import com.sun.mail.imap.IMAPFolder;
import jakarta.mail.FetchProfile;
import jakarta.mail.Flags;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.UIDFolder;
import jakarta.mail.event.MessageCountAdapter;
import jakarta.mail.event.MessageCountEvent;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.search.AndTerm;
import jakarta.mail.search.ComparisonTerm;
import jakarta.mail.search.FlagTerm;
import jakarta.mail.search.NotTerm;
import jakarta.mail.search.SearchTerm;
import jakarta.mail.search.SentDateTerm;
import jakarta.mail.search.SubjectTerm;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The IMAP steps of {@link ElektromailClient}: each connects its own Store (and opens the
 * folder setting where it needs one) and prints what Jakarta Mail saw.
 */
final class ImapSteps {
  private final ElektromailClient client;

  ImapSteps(ElektromailClient client) {
    this.client = client;
  }

  void login() throws Exception {
    client.withStore(store -> {
      Folder inbox = store.getFolder("INBOX");
      inbox.open(Folder.READ_ONLY);
      client.out("messages", inbox.getMessageCount());
      inbox.close(false);
    });
  }

  /** getMessages(), then everything about the message with the uid setting (else the last). */
  void read() throws Exception {
    client.withFolder(folder -> {
      Message[] messages = folder.getMessages();
      client.out("count", messages.length);
      client.out("uidvalidity", folder.getUIDValidity());
      Message message = client.has("uid") ? client.byUid(folder) : messages[messages.length - 1];
      client.out("uid", ((UIDFolder) folder).getUID(message));
      client.out("number", message.getMessageNumber());
      client.out("subject", message.getSubject());
      client.out("from", Arrays.toString(message.getFrom()));
      client.out("to", Arrays.toString(message.getRecipients(Message.RecipientType.TO)));
      client.out("size", message.getSize());
      client.out("sent", message.getSentDate() == null ? "null" : message.getSentDate().getTime());
      client.out("received", message.getReceivedDate().getTime());
      client.out("message-id", ((MimeMessage) message).getMessageID());
      describe("body", message);
      ByteArrayOutputStream raw = new ByteArrayOutputStream();
      message.writeTo(raw);
      client.out("sha256", sha256(raw.toByteArray()));
      client.out("seen", message.isSet(Flags.Flag.SEEN));
    });
  }

  /**
   * Every message of the folder as a listing reads it (one FETCH of ENVELOPE, BODYSTRUCTURE,
   * FLAGS, UID and size for all), then each one's MIME tree and its whole bytes (writeTo).
   */
  void readAll() throws Exception {
    client.withFolder(folder -> {
      Message[] messages = folder.getMessages();
      FetchProfile profile = new FetchProfile();
      profile.add(FetchProfile.Item.ENVELOPE);
      profile.add(FetchProfile.Item.CONTENT_INFO);
      profile.add(FetchProfile.Item.FLAGS);
      profile.add(FetchProfile.Item.SIZE);
      profile.add(UIDFolder.FetchProfileItem.UID);
      folder.fetch(messages, profile);
      client.out("count", messages.length);
      for (Message message : messages) {
        String uid = String.valueOf(folder.getUID(message));
        client.out(uid + ".subject", message.getSubject());
        client.out(uid + ".from", Arrays.toString(message.getFrom()));
        client.out(uid + ".size", message.getSize());
        describe(uid + ".body", message);
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        message.writeTo(raw);
        client.out(uid + ".sha256", sha256(raw.toByteArray()));
      }
    });
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  /** The MIME tree as Jakarta Mail sees it (BODYSTRUCTURE, then BODY[n] per leaf). */
  private void describe(String prefix, Part part) throws Exception {
    client.out(prefix + ".type", part.getContentType().split(";")[0].trim().toLowerCase());
    if (part.isMimeType("multipart/*")) {
      Multipart multipart = (Multipart) part.getContent();
      client.out(prefix + ".parts", multipart.getCount());
      for (int i = 0; i < multipart.getCount(); i++) {
        describe(prefix + "." + (i + 1), multipart.getBodyPart(i));
      }
      return;
    }
    client.out(prefix + ".disposition", part.getDisposition());
    client.out(prefix + ".filename", part.getFileName());
    if (part.isMimeType("message/rfc822")) {
      MimeMessage nested = (MimeMessage) part.getContent();
      client.out(prefix + ".subject", nested.getSubject());
      describe(prefix + ".message", nested);
      return;
    }
    if (part.isMimeType("text/*")) {
      client.out(prefix + ".text", part.getContent());
      return;
    }
    byte[] bytes = part.getInputStream().readAllBytes();
    client.out(prefix + ".bytes", bytes.length);
    client.out(prefix + ".sha256", sha256(bytes));
  }

  void flags() throws Exception {
    client.withFolder(folder -> {
      Message message = client.byUid(folder);
      message.setFlag(Flags.Flag.SEEN, true);
      message.setFlag(Flags.Flag.FLAGGED, true);
      message.setFlags(new Flags("$Jakarta"), true);
      client.out("seen", message.isSet(Flags.Flag.SEEN));
      client.out("flagged", message.isSet(Flags.Flag.FLAGGED));
      client.out("user-flags", String.join(",", message.getFlags().getUserFlags()));
    });
  }

  void copy() throws Exception {
    client.withFolder(folder -> {
      Folder target = folder.getStore().getFolder(client.get("target"));
      folder.copyMessages(new Message[] {client.byUid(folder)}, target);
      client.out("target-count", target.getMessageCount());
    });
  }

  void move() throws Exception {
    client.withFolder(folder -> {
      Folder target = folder.getStore().getFolder(client.get("target"));
      Message message = client.byUid(folder);
      AppendUID[] uids = folder.moveUIDMessages(new Message[] {message}, target);
      client.out("target-uid", uids[0] == null ? "null" : uids[0].uid);
      // The EXPUNGE that MOVE sent; getMessageCount() counts the message until expunge().
      client.out("expunged", message.isExpunged());
    });
  }

  void expunge() throws Exception {
    client.withFolder(folder -> {
      client.byUid(folder).setFlag(Flags.Flag.DELETED, true);
      Message[] removed = folder.expunge();
      client.out("removed", removed.length);
      client.out("remaining", folder.getMessageCount());
    });
  }

  /** appendUIDMessages of a small UTF-8 message, with \\Draft, to the target folder. */
  void append() throws Exception {
    client.withStore(store -> {
      IMAPFolder target = (IMAPFolder) store.getFolder(client.get("target"));
      MimeMessage message = new MimeMessage((Session) null);
      message.setFrom(new InternetAddress(client.get("from")));
      message.setRecipients(Message.RecipientType.TO, InternetAddress.parse(client.get("to")));
      message.setSubject(client.get("subject"), "UTF-8");
      message.setText(client.get("text"), "UTF-8");
      message.setSentDate(new Date());
      message.setFlag(Flags.Flag.DRAFT, true);
      message.saveChanges();
      AppendUID[] uids = target.appendUIDMessages(new Message[] {message});
      client.out("uid", uids[0] == null ? "null" : uids[0].uid);
      client.out("uidvalidity", uids[0] == null ? "null" : uids[0].uidvalidity);
    });
  }

  void rename() throws Exception {
    client.withStore(store -> {
      Folder folder = store.getFolder(client.get("folder"));
      client.out("renamed", folder.renameTo(store.getFolder(client.get("target"))));
    });
  }

  void delete() throws Exception {
    client.withStore(store -> {
      client.out("deleted", store.getFolder(client.get("target")).delete(true));
    });
  }

  void create() throws Exception {
    client.withStore(store -> {
      Folder folder = store.getFolder(client.get("target"));
      client.out("existed", folder.exists());
      client.out("created", folder.create(Folder.HOLDS_MESSAGES));
      client.out("exists", folder.exists());
    });
  }

  void list() throws Exception {
    client.withStore(store -> {
      Folder root = store.getDefaultFolder();
      client.out("separator", root.getSeparator());
      List<String> names = new ArrayList<>();
      for (Folder folder : root.list("*")) names.add(folder.getFullName());
      client.out("folders", String.join(",", names));
    });
  }

  void search() throws Exception {
    client.withFolder(folder -> {
      client.out("uids", uids(folder, folder.search(new SubjectTerm(client.get("subject")))));
    });
  }

  /** Flag and date terms: FLAGGED SENTSINCE, and NOT SEEN. */
  void searchFlags() throws Exception {
    client.withFolder(folder -> {
      Date since = Date.from(Instant.parse("2026-12-01T12:00:00Z"));
      SearchTerm flagged = new AndTerm(
          new FlagTerm(new Flags(Flags.Flag.FLAGGED), true),
          new SentDateTerm(ComparisonTerm.GE, since));
      client.out("flagged", uids(folder, folder.search(flagged)));
      SearchTerm unseen = new NotTerm(new FlagTerm(new Flags(Flags.Flag.SEEN), true));
      client.out("unseen", uids(folder, folder.search(unseen)));
    });
  }

  private static String uids(IMAPFolder folder, Message[] messages) throws MessagingException {
    List<String> uids = new ArrayList<>();
    for (Message message : messages) uids.add(String.valueOf(folder.getUID(message)));
    return String.join(",", uids);
  }

  /**
   * A closed folder's counts (STATUS), subscribing to the target folder, listSubscribed (LSUB)
   * and the personal namespace.
   */
  void status() throws Exception {
    client.withStore(store -> {
      Folder folder = store.getFolder(client.get("folder"));
      client.out("messages", folder.getMessageCount());
      client.out("unread", folder.getUnreadMessageCount());
      client.out("new", folder.getNewMessageCount());
      store.getFolder(client.get("target")).setSubscribed(true);
      List<String> names = new ArrayList<>();
      for (Folder subscribed : store.getDefaultFolder().listSubscribed("*")) {
        names.add(subscribed.getFullName());
      }
      client.out("subscribed", String.join(",", names));
      Folder[] personal = store.getPersonalNamespaces();
      if (personal.length != 1) throw new IllegalStateException("Namespaces: " + personal.length);
      Folder namespace = personal[0];
      client.out("namespace", "\"" + namespace.getFullName() + "\" " + namespace.getSeparator());
    });
  }

  /**
   * IMAPFolder.idle(true) until a MessageCountListener sees a new message. The "ready" line is
   * printed once the server has answered IDLE with its continuation, so the test sends the
   * message to a client that is really idling.
   */
  void idle() throws Exception {
    client.withFolder(new IdleWatch(), folder -> {
      CountDownLatch latch = new CountDownLatch(1);
      List<Message> added = new ArrayList<>();
      folder.addMessageCountListener(new MessageCountAdapter() {
        @Override
        public void messagesAdded(MessageCountEvent event) {
          synchronized (added) {
            added.addAll(Arrays.asList(event.getMessages()));
          }
          latch.countDown();
        }
      });
      client.out("before", folder.getMessageCount());
      long timeout = TimeUnit.SECONDS.toMillis(Long.parseLong(client.get("timeout")));
      long deadline = System.currentTimeMillis() + timeout;
      // Any other call on the folder ends the IDLE: this one gives up after the timeout.
      Thread watchdog = new Thread(() -> {
        try {
          Thread.sleep(timeout);
          if (latch.getCount() > 0) folder.getMessageCount();
        } catch (InterruptedException | MessagingException e) {
          // The step has ended, or the connection has.
        }
      });
      watchdog.setDaemon(true);
      watchdog.start();
      while (latch.getCount() > 0 && System.currentTimeMillis() < deadline) {
        folder.idle(true);
        // Listeners run on Jakarta Mail's event thread, after idle() has returned.
        latch.await(5, TimeUnit.SECONDS);
      }
      if (latch.getCount() > 0) throw new IllegalStateException("No message arrived while idling");
      Message message;
      synchronized (added) {
        message = added.get(0);
      }
      client.out("arrived", message.getMessageNumber());
      client.out("arrived.uid", folder.getUID(message));
      client.out("arrived.subject", message.getSubject());
      client.out("after", folder.getMessageCount());
    });
  }

  /** Watches the protocol trace: prints "idle.ready" when the server accepts IDLE. */
  private final class IdleWatch extends OutputStream {
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private boolean idleSent = false;

    @Override
    public void write(int b) {
      if (b != '\n') {
        line.write(b);
        return;
      }
      String text = line.toString(StandardCharsets.ISO_8859_1).trim();
      line.reset();
      if (text.matches("^[A-Za-z0-9]+ IDLE$")) {
        idleSent = true;
      } else if (idleSent && text.startsWith("+")) {
        idleSent = false;
        client.out("ready", "true");
        System.out.flush();
      }
    }
  }
}
