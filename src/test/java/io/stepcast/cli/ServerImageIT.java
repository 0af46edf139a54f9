package io.stepcast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.testsupport.Await;
import io.stepcast.testsupport.ClassReferences;
import io.stepcast.testsupport.EmbeddedKafkaSupport;
import io.stepcast.testsupport.TestRecords;
import io.stepcast.testsupport.TestTopics;
import io.stepcast.train.PipelineModels;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server image's class path, {@code target/image/server} (what docker/Dockerfile copies),
 * carries what {@code run} needs and nothing of the trainer, the broker or the benchmark, and
 * {@code run} forecasts from it alone: a separate JVM on that directory against the embedded
 * broker. The trainer image's (the server's plus {@code target/image/trainer}) trains.
 */
class ServerImageIT {
  private static final Path SERVER = Path.of("target/image/server");
  private static final Path APP = SERVER.resolve("stepcast.jar");
  private static final Path LIB = SERVER.resolve("lib");
  private static final Path TRAINER_LIB = Path.of("target/image/trainer/lib");
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Jars of the trainer (DJL, PyTorch), the broker (kafka_2.13, its modules, Scala) and JMH. */
  private static final List<String> FORBIDDEN_JARS =
      List.of(
          "api-", // ai.djl:api
          "pytorch-",
          "jna-",
          "gson-",
          "commons-compress-",
          "kafka_2.13-",
          "kafka-server-",
          "kafka-metadata-",
          "kafka-raft-",
          "kafka-storage-",
          "kafka-group-coordinator-",
          "kafka-share-coordinator-",
          "kafka-transaction-coordinator-",
          "kafka-coordinator-common-",
          "scala-",
          "log4j-",
          "jmh-",
          "commons-math3-");

  /**
   * Classes of the trainer's and benchmark's packages the server may reach, with the reason: `model
   * export` writes the seeded fixed-weight model (no DJL in it).
   */
  private static final Set<String> ALLOWED_FOREIGN = Set.of("io/stepcast/train/PipelineModels");

  @TempDir Path dir;

  @BeforeAll
  static void needsThePackagedLayout() {
    assertThat(APP)
        .as("target/image/server is built by the package phase (mvn package or verify)")
        .exists();
  }

  @Test
  void shouldCarryNoTrainerBrokerOrBenchmarkJars() throws IOException {
    List<String> jars;
    try (Stream<Path> s = Files.list(LIB)) {
      jars = s.map(p -> p.getFileName().toString()).sorted().toList();
    }
    assertThat(jars)
        .as("server lib")
        .noneMatch(j -> FORBIDDEN_JARS.stream().anyMatch(j::startsWith))
        .anyMatch(j -> j.startsWith("kafka-streams-"))
        .anyMatch(j -> j.startsWith("onnxruntime-"))
        .anyMatch(j -> j.startsWith("rocksdbjni-"));
  }

  @Test
  void shouldCarryLinuxNativesOnlyForOnnxRuntimeAndRocksDb() throws IOException {
    assertThat(natives("onnxruntime-", n -> n.startsWith("ai/onnxruntime/native/")))
        .isNotEmpty()
        .allMatch(
            n ->
                n.startsWith("ai/onnxruntime/native/linux-x64/")
                    || n.startsWith("ai/onnxruntime/native/linux-aarch64/"))
        .anyMatch(n -> n.endsWith("linux-x64/libonnxruntime.so"))
        .anyMatch(n -> n.endsWith("linux-aarch64/libonnxruntime.so"));
    assertThat(natives("rocksdbjni-", n -> n.startsWith("librocksdbjni")))
        .containsExactlyInAnyOrder("librocksdbjni-linux64.so", "librocksdbjni-linux-aarch64.so");
  }

  /**
   * Every class the server's code can reach from {@code Main} (the optional commands are named by
   * string, not linked) is in the server jar, its lib directory or the JDK, and none is the
   * trainer's or the benchmark's: what the server does not import, the image does not carry.
   */
  @Test
  void shouldResolveEveryClassTheServerReachesFromItsOwnClassPath() throws Exception {
    Map<String, Set<String>> reachedFrom = new TreeMap<>();
    Set<String> appClasses = new TreeSet<>();
    try (JarFile app = new JarFile(APP.toFile());
        URLClassLoader serverPath = new URLClassLoader(libUrls(), null)) {
      Deque<String> todo = new ArrayDeque<>(List.of("io/stepcast/cli/Main"));
      Set<String> seen = new TreeSet<>(todo);
      List<String> unresolved = new ArrayList<>();
      while (!todo.isEmpty()) {
        String name = todo.poll();
        JarEntry entry = app.getJarEntry(name + ".class");
        assertThat(entry).as("%s in %s", name, APP).isNotNull();
        appClasses.add(name);
        byte[] bytes;
        try (InputStream in = app.getInputStream(entry)) {
          bytes = in.readAllBytes();
        }
        for (String ref : ClassReferences.of(bytes)) {
          if (ref.startsWith("io/stepcast/")) {
            if (seen.add(ref)) {
              todo.add(ref);
            }
          } else {
            reachedFrom.computeIfAbsent(ref, k -> new TreeSet<>()).add(name);
          }
        }
      }
      for (Map.Entry<String, Set<String>> e : reachedFrom.entrySet()) {
        if (!resolves(e.getKey(), serverPath)) {
          unresolved.add(e.getKey() + " (from " + e.getValue() + ")");
        }
      }
      assertThat(unresolved).as("classes the server reaches but its class path lacks").isEmpty();
    }
    assertThat(appClasses)
        .as("the server's classes (from Main)")
        .contains("io/stepcast/cli/RunCommand", "io/stepcast/serve/ForecastService")
        .noneMatch(
            c ->
                (c.startsWith("io/stepcast/train/") || c.startsWith("io/stepcast/bench/"))
                    && !ALLOWED_FOREIGN.contains(c))
        .doesNotContain(
            "io/stepcast/cli/TrainCommand",
            "io/stepcast/cli/BacktestCommand",
            "io/stepcast/cli/DemoCommand",
            "io/stepcast/cli/BenchCommand",
            "io/stepcast/cli/BrokerCommand",
            "io/stepcast/cli/EmbeddedLocalBroker",
            "io/stepcast/kafka/EmbeddedKafkaBroker");
  }

  @Test
  void shouldForecastFromTheServerClassPathAlone() throws Exception {
    String bootstrap = EmbeddedKafkaSupport.cluster().bootstrapServers();
    Map<String, String> env = TestTopics.isolatedPipeline(TestTopics.unique("server-image"), 2);
    TopologySpec spec = SpecLoader.load(Path.of("topologies/weather.yaml"), env);
    Path models = Files.createDirectories(dir.resolve("models"));
    Files.write(models.resolve("fixed.onnx"), PipelineModels.fixed(spec, 42));
    List<Map.Entry<String, String>> events = new ArrayList<>();
    Instant t0 = Instant.parse("2010-01-01T00:00:00Z");
    for (int h = 0; h < 50; h++) {
      for (int s = 0; s < 4; s++) {
        events.add(
            Map.entry(
                "station-" + s,
                String.format(
                    Locale.ROOT,
                    "{\"date\":%d,\"pressure\":%.1f,\"temperature\":%.3f,\"wind\":%.1f}",
                    t0.plusSeconds(3600L * h).toEpochMilli(),
                    1010.0 + s,
                    8 + 6 * Math.sin(2 * Math.PI * h / 24.0 + s),
                    3.0 + s)));
      }
    }
    Path log = dir.resolve("run.log");
    Process run =
        server(
            env,
            log,
            "run",
            "-t",
            "topologies/weather.yaml",
            "-b",
            bootstrap,
            "--state-dir",
            dir.resolve("state").toString(),
            "--model-dir",
            models.toString(),
            "--http-port",
            "0");
    try {
      TestRecords.produce(bootstrap, spec.topics().input(), events);
      List<ConsumerRecord<String, String>> out =
          TestRecords.consume(
              bootstrap, spec.topics().output(), events.size(), Duration.ofSeconds(180));
      assertThat(out).as("forecasts (log: %s)", log).hasSize(events.size());
      for (ConsumerRecord<String, String> r : out) {
        JsonNode f = JSON.readTree(r.value());
        assertThat(f.get("model").asText()).isEqualTo("weather-fixed-42");
        assertThat(f.get("forecast").isNumber()).as(r.value()).isTrue();
      }
    } finally {
      run.destroy();
      assertThat(run.waitFor(60, TimeUnit.SECONDS)).as("run stops on SIGTERM").isTrue();
    }
  }

  @Test
  void shouldSayWhichInstallationHasTheCommandsTheServerLacks() throws Exception {
    for (String[] args :
        List.of(
            new String[] {"train", "-t", "topologies/weather.yaml"},
            new String[] {"demo"},
            new String[] {"broker"},
            new String[] {
              "run",
              "-t",
              "topologies/weather.yaml",
              "--http-port",
              "0",
              "--state-dir",
              dir.resolve("state-no-broker").toString()
            })) {
      Path log = dir.resolve("cmd-" + args[0] + ".log");
      Process p = server(Map.of(), log, args);
      Await.until(Duration.ofSeconds(60), () -> !p.isAlive(), () -> String.join(" ", args));
      String text = Files.readString(log, StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as(text).isEqualTo(2);
      assertThat(text.lines().toList())
          .as(String.join(" ", args))
          .singleElement()
          .satisfies(
              line ->
                  assertThat(line)
                      .startsWith("error: ")
                      .containsAnyOf("trainer image", "launcher ./stepcast", "--bootstrap-servers")
                      .doesNotContain("Exception"));
    }
  }

  /** The trainer image's layout (docker/Dockerfile, target trainer): both lib dirs in one. */
  @Test
  void shouldTrainFromTheTrainerImagesClassPathAlone() throws Exception {
    Path image = Files.createDirectories(dir.resolve("trainer-image"));
    Path lib = Files.createDirectories(image.resolve("lib"));
    Files.copy(APP, image.resolve("stepcast.jar"));
    for (Path from : List.of(LIB, TRAINER_LIB)) {
      try (Stream<Path> s = Files.list(from)) {
        for (Path jar : s.toList()) {
          Files.createSymbolicLink(lib.resolve(jar.getFileName()), jar.toAbsolutePath());
        }
      }
    }
    Path log = dir.resolve("train.log");
    Process train =
        java(
            image.resolve("stepcast.jar"),
            Map.of("DJL_CACHE_DIR", dir.resolve("djl").toString()),
            log,
            "train",
            "-t",
            "topologies/weather.yaml",
            "--csv",
            "samples/seattle-weather-hourly-normals.csv",
            "--epochs",
            "2",
            "--out",
            dir.resolve("trained").toString());
    Await.until(Duration.ofMinutes(5), () -> !train.isAlive(), () -> "train (log: " + log + ")");
    String text = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(train.exitValue()).as(text).isZero();
    try (Stream<Path> s = Files.list(dir.resolve("trained"))) {
      assertThat(s.map(p -> p.getFileName().toString()).toList())
          .as(text)
          .anyMatch(n -> n.endsWith(".onnx"));
    }
  }

  private Process server(Map<String, String> env, Path log, String... args) throws IOException {
    return java(APP, env, log, args);
  }

  private static Process java(Path appJar, Map<String, String> env, Path log, String... args)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx512m");
    cmd.add("-jar");
    cmd.add(appJar.toString());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    Map<String, String> penv = pb.environment();
    penv.keySet().removeIf(k -> k.startsWith("STEPCAST_"));
    penv.putAll(new HashMap<>(env));
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    return pb.start();
  }

  private static List<String> natives(String jarPrefix, Predicate<String> isNative)
      throws IOException {
    Path jar;
    try (Stream<Path> s = Files.list(LIB)) {
      jar =
          s.filter(p -> p.getFileName().toString().startsWith(jarPrefix)).findFirst().orElseThrow();
    }
    try (JarFile j = new JarFile(jar.toFile())) {
      return j.stream()
          .filter(e -> !e.isDirectory())
          .map(JarEntry::getName)
          .filter(isNative)
          .toList();
    }
  }

  private static URL[] libUrls() throws IOException {
    try (Stream<Path> s = Files.list(LIB)) {
      List<URL> urls = new ArrayList<>();
      urls.add(APP.toUri().toURL());
      for (Path p : s.sorted().toList()) {
        urls.add(p.toUri().toURL());
      }
      return urls.toArray(URL[]::new);
    }
  }

  /** Whether the class is in the JDK or on the server's class path (never loaded, only found). */
  private static boolean resolves(String internalName, ClassLoader serverPath) {
    String resource = internalName + ".class";
    if (serverPath.getResource(resource) != null) {
      return true;
    }
    try {
      Class.forName(internalName.replace('/', '.'), false, ClassLoader.getPlatformClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }
}
