package io.stepcast.cli;

import io.stepcast.config.TopologySpec;
import io.stepcast.kafka.ModelTopic;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ModelException;
import io.stepcast.model.StepModel;
import io.stepcast.train.PipelineModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code stepcast model}: export and inspect step models. */
@Command(
    name = "model",
    mixinStandardHelpOptions = true,
    description = "Exports and inspects ONNX step models.",
    subcommands = {ModelCommand.Export.class, ModelCommand.Inspect.class})
final class ModelCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /**
   * Creates the model topic compacted and sized for models unless it exists, and refuses one whose
   * configuration would lose models: a producer's or consumer's metadata request must never be the
   * first to touch it (a broker would auto-create it with its defaults).
   */
  static void ensureTopic(TopologySpec spec, String bootstrap) {
    Map<String, Object> admin = new HashMap<>(CommonOptions.clientProperties());
    admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin a = Admin.create(admin)) {
      ModelTopic.ensure(a, bootstrap, spec.topics().model(), spec.topics().replicationFactor());
    }
  }

  /** Writes a model to a file and/or the model topic, atomically. */
  static void deliver(
      byte[] onnx,
      String version,
      TopologySpec spec,
      Path out,
      boolean publish,
      CommonOptions common)
      throws Exception {
    if (out != null) {
      // A path that is a directory, or does not name an .onnx file, is a directory to write into.
      boolean dir = Files.isDirectory(out) || !out.getFileName().toString().endsWith(".onnx");
      Path target = dir ? out.resolve(version + ".onnx") : out;
      Path parent = target.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Path tmp = Files.createTempFile(parent, ".stepcast-", ".tmp");
      Files.write(tmp, onnx);
      try {
        Files.setPosixFilePermissions(
            tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
      } catch (UnsupportedOperationException e) {
        // not a POSIX file system: keep the default permissions
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      System.out.println("wrote " + target + " (" + onnx.length + " bytes)");
    }
    if (publish) {
      String bootstrap = common.requireBootstrap("--publish");
      ensureTopic(spec, bootstrap);
      ModelTopic.publish(
          bootstrap,
          CommonOptions.clientProperties(),
          spec.topics().model(),
          spec.name(),
          version,
          onnx);
      System.out.println(
          "published "
              + version
              + " to topic "
              + spec.topics().model()
              + " (key "
              + spec.name()
              + ")");
    }
  }

  @Command(
      name = "export",
      mixinStandardHelpOptions = true,
      description =
          "Exports a step model for the pipeline built from fixed seeded weights (forecasts close to persistence until a trained model replaces it).")
  static final class Export implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(
        names = "--seed",
        defaultValue = "42",
        description = "Seed of the fixed weights. Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(
        names = "--out",
        description =
            "File or directory to write the model to. Default: the spec's model.directory")
    Path out;

    @Option(names = "--publish", description = "Also publish it to the model topic.")
    boolean publish;

    @Override
    public Integer call() throws Exception {
      TopologySpec spec = common.spec();
      byte[] onnx = PipelineModels.fixed(spec, seed);
      Path target =
          out != null
              ? out
              : spec.model().directory() == null ? null : Path.of(spec.model().directory());
      if (target == null && !publish) {
        throw new UserException(
            "nowhere to export to: pass --out FILE, --publish, or set model.directory in "
                + common.topology);
      }
      if (target != null && out == null) {
        Files.createDirectories(target);
      }
      String version = spec.name() + "-fixed-" + seed;
      deliver(onnx, version, spec, target, publish, common);
      return 0;
    }
  }

  @Command(
      name = "inspect",
      mixinStandardHelpOptions = true,
      description = "Loads a model, checks its signature and golden vectors, and prints its spec.")
  static final class Inspect implements Callable<Integer> {
    @Parameters(index = "0", description = "The .onnx file.")
    Path file;

    @Override
    public Integer call() throws Exception {
      try (StepModel m = StepModel.load(file, ExecutionConfig.cpu())) {
        System.out.println(
            "model "
                + m.version()
                + ": valid (signature and "
                + m.spec().golden().steps()
                + " golden steps checked on "
                + m.provider()
                + ")");
        System.out.println(m.spec().toJson());
        return 0;
      } catch (ModelException e) {
        System.err.println("error: " + file + " is not a valid step model: " + e.getMessage());
        return 3;
      }
    }
  }
}
