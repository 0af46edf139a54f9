package io.stepcast.cli;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import io.stepcast.config.TopologySpec;
import io.stepcast.kafka.ModelTopic;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ModelException;
import io.stepcast.model.ModelRegistry;
import io.stepcast.model.ModelSpec;
import io.stepcast.model.OnnxMetadata;
import io.stepcast.model.OrtSupport;
import io.stepcast.model.SpecSchema;
import io.stepcast.model.StepModel;
import io.stepcast.serve.ModelSources;
import io.stepcast.train.PipelineModels;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
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
    description = "Exports, inspects and publishes ONNX step models.",
    subcommands = {
      ModelCommand.Export.class,
      ModelCommand.Inspect.class,
      ModelCommand.Publish.class
    })
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
      name = "publish",
      mixinStandardHelpOptions = true,
      description = {
        "Publishes a step model made elsewhere (PyTorch, Keras, ...) for the pipeline: checks it as"
            + " a running instance of the pipeline would (signature, golden vectors, features,"
            + " target and transform) and its spec against the schema of docs/MODEL-CONTRACT.md,"
            + " then writes it into the model directory (atomically) and, with --topic, to the"
            + " model topic.",
        "Running instances serve the newest valid model (by the spec's createdAt)."
      })
  static final class Publish implements Callable<Integer> {
    private static final java.util.regex.Pattern FILE_NAME =
        java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,200}");

    @Mixin CommonOptions common;

    @Parameters(index = "0", description = "The .onnx file.")
    Path file;

    @Option(
        names = "--out",
        description = "Directory to write the model to. Default: the spec's model.directory")
    Path out;

    @Option(names = "--topic", description = "Also publish it to the model topic (needs -b).")
    boolean topic;

    @Override
    public Integer call() throws Exception {
      TopologySpec spec = common.spec();
      Path dir =
          out != null
              ? out
              : spec.model().directory() == null ? null : Path.of(spec.model().directory());
      if (dir == null && !topic) {
        throw new UserException(
            "nowhere to publish to: pass --out DIR, --topic, or set model.directory in "
                + common.topology);
      }
      if (topic) {
        common.requireBootstrap("--topic");
      }
      byte[] bytes;
      try {
        bytes = Files.readAllBytes(file);
      } catch (java.nio.file.NoSuchFileException e) {
        throw new UserException("no such file: " + file);
      }
      String json = OnnxMetadata.read(bytes).get(ModelSpec.METADATA_KEY);
      if (json != null) {
        try {
          SpecSchema.check(json);
        } catch (IllegalArgumentException e) {
          throw new UserException(file + ": " + e.getMessage());
        }
      }
      // The registry a running instance of this pipeline builds: it accepts exactly what they do.
      String version;
      try (ModelRegistry registry =
          ModelSources.registry(spec, ExecutionConfig.cpu(), ModelRegistry.Listener.NONE)) {
        if (registry.offer(bytes, file.toString()) != ModelRegistry.Outcome.SWAPPED) {
          throw new UserException(
              "not published: pipeline "
                  + spec.name()
                  + " would refuse it: "
                  + registry.lastRefusal());
        }
        version = registry.current().version();
      }
      if (dir != null && !FILE_NAME.matcher(version).matches()) {
        throw new UserException(
            "not published: the model's version '"
                + version
                + "' cannot name a file in "
                + dir
                + "; use letters, digits, '.', '_' and '-' in the spec's version");
      }
      if (dir != null) {
        Files.createDirectories(dir);
      }
      deliver(bytes, version, spec, dir, topic, common);
      return 0;
    }
  }

  @Command(
      name = "inspect",
      mixinStandardHelpOptions = true,
      description = {
        "Checks a step model the way a running instance does (signature, golden vectors) and its"
            + " spec against the JSON Schema of docs/MODEL-CONTRACT.md, then prints the graph's"
            + " inputs and outputs (name, type, shape, as ONNX Runtime reads them) and the spec.",
        "Exit code 0: valid; 3: not a valid step model (the reasons are printed)."
      })
  static final class Inspect implements Callable<Integer> {
    @Parameters(index = "0", description = "The .onnx file.")
    Path file;

    @Override
    public Integer call() throws Exception {
      byte[] bytes;
      try {
        bytes = Files.readAllBytes(file);
      } catch (java.nio.file.NoSuchFileException e) {
        throw new UserException("no such file: " + file);
      }
      List<String> problems = new ArrayList<>();
      String json = null;
      try {
        json = OnnxMetadata.read(bytes).get(ModelSpec.METADATA_KEY);
      } catch (ModelException e) {
        // Not an ONNX model at all: StepModel.load below says so with ONNX Runtime's words.
      }
      if (json != null) {
        for (String p : SpecSchema.problems(json)) {
          problems.add("spec " + p);
        }
      }
      List<String> signature = signature(bytes);
      String loaded = null;
      try (StepModel m = StepModel.load(bytes, ExecutionConfig.cpu())) {
        loaded =
            "model "
                + m.version()
                + ": signature and "
                + m.spec().golden().steps()
                + " golden steps checked on "
                + m.provider();
        json = m.spec().toJson();
      } catch (ModelException e) {
        problems.add(e.getMessage());
      }
      PrintStream out = System.out;
      if (loaded != null && problems.isEmpty()) {
        out.println(loaded + "; spec follows the schema: valid");
      }
      if (!signature.isEmpty()) {
        out.println("graph (ONNX Runtime):");
        signature.forEach(line -> out.println("  " + line));
      }
      if (json != null) {
        out.println(ModelSpec.METADATA_KEY + ":");
        out.println(json);
      }
      if (problems.isEmpty()) {
        return 0;
      }
      for (String p : problems) {
        System.err.println("error: " + file + " is not a valid step model: " + p);
      }
      return 3;
    }

    /**
     * One line per graph input and output: {@code input x float32 [batch, 5]}; symbolic dimensions
     * by name. Empty when ONNX Runtime cannot open the model.
     */
    static List<String> signature(byte[] onnx) {
      List<String> lines = new ArrayList<>();
      try (OrtSupport.OpenSession open = OrtSupport.open(onnx, ExecutionConfig.cpu())) {
        Map<String, NodeInfo> inputs = open.session().getInputInfo();
        Map<String, NodeInfo> outputs = open.session().getOutputInfo();
        int width = 1;
        for (String name : inputs.keySet()) {
          width = Math.max(width, name.length());
        }
        for (String name : outputs.keySet()) {
          width = Math.max(width, name.length());
        }
        describe("input ", inputs, width, lines);
        describe("output", outputs, width, lines);
      } catch (ModelException | OrtException e) {
        // StepModel.load reports the same failure with its context: say it once.
        return List.of();
      }
      return lines;
    }

    private static void describe(
        String kind, Map<String, NodeInfo> nodes, int width, List<String> lines) {
      for (NodeInfo n : nodes.values()) {
        String type;
        String shape;
        if (n.getInfo() instanceof TensorInfo t) {
          type = elementType(t);
          shape = shape(t);
        } else {
          type = n.getInfo().toString();
          shape = "";
        }
        lines.add(
            String.format(
                    Locale.ROOT, "%s %-" + width + "s %-7s %s", kind, n.getName(), type, shape)
                .stripTrailing());
      }
    }

    /** ONNX's element type name, e.g. float32. */
    static String elementType(TensorInfo t) {
      return switch (t.onnxType) {
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> "float32";
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> "float64";
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> "float16";
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16 -> "bfloat16";
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> "int64";
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> "int32";
        default ->
            t.onnxType
                .name()
                .replace("ONNX_TENSOR_ELEMENT_DATA_TYPE_", "")
                .toLowerCase(Locale.ROOT);
      };
    }

    /**
     * {@code [batch, 5]}: a symbolic dimension by its name, an unnamed unknown one as {@code ?}.
     */
    static String shape(TensorInfo t) {
      long[] dims = t.getShape();
      String[] names = t.getDimensionNames();
      StringBuilder sb = new StringBuilder("[");
      for (int i = 0; i < dims.length; i++) {
        sb.append(i == 0 ? "" : ", ");
        if (dims[i] >= 0) {
          sb.append(dims[i]);
        } else if (names != null && i < names.length && !names[i].isEmpty()) {
          sb.append(names[i]);
        } else {
          sb.append('?');
        }
      }
      return sb.append(']').toString();
    }
  }
}
