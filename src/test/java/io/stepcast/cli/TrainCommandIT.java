package io.stepcast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.kafka.Csv;
import io.stepcast.kafka.ModelTopic;
import io.stepcast.kafka.Topics;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.StepModel;
import io.stepcast.testsupport.EmbeddedKafkaSupport;
import io.stepcast.testsupport.TestTopics;
import io.stepcast.train.SyntheticHistory;
import io.stepcast.train.TrainingData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code stepcast train} against a real broker: the input topic as source, the model topic. */
class TrainCommandIT {

  @TempDir Path dir;

  private final String bootstrap = EmbeddedKafkaSupport.cluster().bootstrapServers();
  private Path spec;
  private Path csv;
  private String input;
  private String modelTopic;
  private String out;
  private String err;

  @BeforeEach
  void files() throws Exception {
    String base = TestTopics.unique("train");
    input = base + "-in";
    modelTopic = base + "-models";
    spec =
        SyntheticHistory.specFile(
            dir,
            "topics: {input: "
                + input
                + ", output: "
                + base
                + "-out, deadLetter: "
                + base
                + "-dlq, model: "
                + modelTopic
                + ", partitions: 2}");
    csv = dir.resolve("history.csv");
    Files.writeString(csv, SyntheticHistory.csv(2, 300, 21));
  }

  private int run(String... args) {
    CliRun.Result r = CliRun.run(args);
    out = r.out();
    err = r.err();
    return r.code();
  }

  @Test
  void shouldTrainOnTheInputTopicUpToItsEndCountingRejectedRecords() throws Exception {
    TopologySpec s = SpecLoader.load(spec, Map.of());
    TrainingData history = TrainingData.fromCsv(s, Csv.read(csv));
    try (Admin admin = EmbeddedKafkaSupport.cluster().admin()) {
      Topics.ensure(admin, input, 2, (short) 1, Map.of());
    }
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (TrainingData.Series series : history.series()) {
        for (TrainingData.RawRecord r : series.records()) {
          producer.send(new ProducerRecord<>(input, r.key(), r.value()));
        }
      }
      producer.send(new ProducerRecord<>(input, b("site-0"), b("{not json")));
      producer.send(
          new ProducerRecord<>(
              input,
              b("site-1"),
              b("{\"site\":\"site-1\",\"time\":\"2024-01-01T00:30:00\",\"level\":\"high\"}")));
      producer.flush();
    }

    int code =
        run(
            "train",
            "-t",
            spec.toString(),
            "--source",
            "topic",
            "-b",
            bootstrap,
            "--out",
            dir.resolve("out").toString(),
            "--epochs",
            "4");

    assertThat(code).as(out + err).isZero();
    assertThat(out)
        .contains("read topic " + input + ": 602 records -> 2 series, 600 events")
        .contains("rejected 2 records (malformed_json 1, non_numeric 1)")
        .contains("not published");
    try (Stream<Path> files = Files.list(dir.resolve("out"))) {
      assertThat(files.filter(f -> f.toString().endsWith(".onnx")).count()).isEqualTo(1);
    }
  }

  @Test
  void shouldPublishToTheModelTopicOnlyWhenTheModelIsBetter() throws Exception {
    int first =
        run("train", "-t", spec.toString(), "--csv", csv.toString(), "--publish", "-b", bootstrap);
    assertThat(first).as(out + err).isZero();
    assertThat(out).contains("published synth-").contains("to topic " + modelTopic);
    String published = version(ModelTopic.latest(bootstrap, Map.of(), modelTopic, "synth"));
    assertThat(out).contains("wrote " + dir.resolve("models").resolve(published + ".onnx"));

    int worse =
        run(
            "train",
            "-t",
            spec.toString(),
            "--csv",
            csv.toString(),
            "--publish",
            "-b",
            bootstrap,
            "--epochs",
            "1",
            "--seed",
            "5");
    assertThat(worse).as(out + err).isEqualTo(4);
    assertThat(out).contains("live model " + published + " (topic " + modelTopic + ")");
    assertThat(out).contains("NOT publishing");
    assertThat(version(ModelTopic.latest(bootstrap, Map.of(), modelTopic, "synth")))
        .isEqualTo(published);
  }

  private static String version(byte[] onnx) throws Exception {
    assertThat(onnx).isNotNull();
    try (StepModel m = StepModel.load(onnx, ExecutionConfig.cpu())) {
      return m.version();
    }
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
