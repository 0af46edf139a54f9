package io.stepcast.serve;

import io.stepcast.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;

/**
 * The Kafka Streams {@code group.instance.id} of an instance (static group membership).
 *
 * <p>Why: with a dynamic member, an instance killed and restarted at once waits for its old
 * member's session to time out (45 s by default) before the group rebalances; a static member that
 * comes back with the same id takes its partitions back at once. The price: an instance removed for
 * good keeps its partitions until {@code session.timeout.ms} expires, and a clean stop stays in the
 * group ({@link ForecastService#close}) so that a restart needs no rebalance.
 *
 * <p>The setting: {@code auto} (the default) reads the id from the file {@value #FILE} in the state
 * directory, written once with a random id: stable across restarts of the same state directory,
 * unique per state directory (two instances on one host never share one, which a host name would
 * not guarantee). {@code none} turns static membership off; anything else is the id itself (the
 * chart passes the pod name). A {@code group.instance.id} among the client properties
 * (STEPCAST_KAFKA_GROUP_INSTANCE_ID) wins over all.
 */
public final class StaticMembership {
  /** The file in the state directory holding the derived id. */
  public static final String FILE = "stepcast-group-instance-id";

  private StaticMembership() {}

  /**
   * The client properties with the instance's {@code group.instance.id} added as {@code setting}
   * says.
   *
   * @param settingName where the setting came from, for the error
   * @throws ConfigException when the id file cannot be read or written
   */
  public static Map<String, String> apply(
      Map<String, String> clientProperties, String setting, String settingName, Path stateDir) {
    Map<String, String> out = new HashMap<>(clientProperties);
    if (out.containsKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG)) {
      return out;
    }
    String s = setting == null ? "auto" : setting.trim();
    if (s.equalsIgnoreCase("none") || s.isEmpty()) {
      return out;
    }
    String id = s.equalsIgnoreCase("auto") ? fromStateDir(stateDir, settingName) : s;
    out.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, id);
    return out;
  }

  private static String fromStateDir(Path stateDir, String settingName) {
    Path file = stateDir.resolve(FILE);
    try {
      if (Files.exists(file)) {
        String id = Files.readString(file, StandardCharsets.UTF_8).trim();
        if (!id.isEmpty()) {
          return id;
        }
      }
      Files.createDirectories(stateDir);
      String id = "stepcast-" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
      Path tmp = Files.createTempFile(stateDir, ".stepcast-", ".tmp");
      Files.writeString(tmp, id + "\n", StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return id;
    } catch (IOException e) {
      throw new ConfigException(
          settingName,
          "group.instance.id",
          "is auto but " + file + " cannot be read or written (" + e.getMessage() + ")",
          "make the state directory writable, or set the id (e.g. the pod name), or none to"
              + " turn static membership off");
    }
  }
}
