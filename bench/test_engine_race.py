"""Checks of the engine race's scripts (not part of CI):

    /usr/bin/python3 -m unittest discover -s bench -p 'test_*.py'
"""
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import engine_race_table as table
import weaken_glibcxx_requirement as weaken

HERE = os.path.dirname(os.path.abspath(__file__))
# Any system library with version requirements will do: libstdc++ needs GLIBC_2.2.5 among others.
LIBRARY = os.path.realpath("/usr/lib/x86_64-linux-gnu/libstdc++.so.6")


class WeakenTests(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.directory)

    def original(self):
        with open(LIBRARY, "rb") as f:
            return bytearray(f.read())

    def test_sets_only_the_weak_flag_of_the_named_requirement(self):
        data = self.original()
        found, changed = weaken.weaken(data, "GLIBC_2.2.5")
        self.assertGreaterEqual(found, 1)
        self.assertEqual(found, changed)
        differences = [i for i, (a, b) in enumerate(zip(self.original(), data)) if a != b]
        self.assertGreaterEqual(len(differences), 1)
        self.assertLessEqual(len(differences), changed)       # one flags byte per entry (VER_FLG_WEAK = 2 is in the low byte)
        for i in differences:
            self.assertEqual(data[i], self.original()[i] | 2)
        self.assertEqual(weaken.weaken(data, "GLIBC_2.2.5"), (found, 0))   # a second pass changes nothing

    def test_a_missing_version_changes_nothing(self):
        data = self.original()
        self.assertEqual(weaken.weaken(data, "GLIBCXX_9.9.9"), (0, 0))
        self.assertEqual(data, self.original())

    def test_the_command_replaces_the_file_and_leaves_hard_links_to_the_old_one_alone(self):
        copy, link = os.path.join(self.directory, "lib.so"), os.path.join(self.directory, "cache.so")
        shutil.copyfile(LIBRARY, copy)
        os.link(copy, link)
        result = subprocess.run([sys.executable, os.path.join(HERE, "weaken_glibcxx_requirement.py"), copy, "GLIBC_2.2.5"],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("GLIBC_2.2.5", result.stdout)
        self.assertIn("made weak", result.stdout)
        with open(link, "rb") as f:
            self.assertEqual(f.read(), bytes(self.original()))
        with open(copy, "rb") as f:
            self.assertNotEqual(f.read(), bytes(self.original()))

    def test_a_file_that_is_not_elf_is_refused_with_one_line(self):
        path = os.path.join(self.directory, "text.so")
        with open(path, "w") as f:
            f.write("not a library")
        result = subprocess.run([sys.executable, os.path.join(HERE, "weaken_glibcxx_requirement.py"), path],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.strip(), f"{path}: not a little-endian 64-bit ELF file")


def timing(median):
    return {"median": median, "min": median, "max": median}


class TableTests(unittest.TestCase):
    LOGITS = [1.0, -2.0, 0.5]

    def setUp(self):
        self.directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.directory)
        os.makedirs(os.path.join(self.directory, "weights"))
        with open(os.path.join(self.directory, "weights", "pytorch_check.json"), "w") as f:
            json.dump({"torch": "1.13", "opset": 17, "logits": {"lenet5": self.LOGITS, "resnet18": self.LOGITS}}, f)
        for name in ("load_start", "load_end"):
            with open(os.path.join(self.directory, name), "w") as f:
                f.write("0.10 0.20 0.30")

    def write(self, engine, round_, latency, infer, train, logits=None, peak=None, model="lenet5", batch=256, threads=1):
        run = {"engine": engine, "model": model, "threads": threads, "forward_macs": 1000, "repeats": 5,
               "latency_b1_us": timing(latency), f"infer_b{batch}_ips": timing(infer),
               "train_b64_ips": None if train is None else timing(train),
               "train_final_loss": None if train is None else 1.0,
               "train_peak_rss_mib": peak, "check_logits": logits or self.LOGITS}
        with open(os.path.join(self.directory, f"{engine}_{model}_t{threads}_r{round_}.json"), "w") as f:
            json.dump(run, f)

    def race(self, onnx_logits=None):
        for r, (c_lat, o_lat) in enumerate([(10, 30), (20, 30), (10, 40)], start=1):
            self.write("cnngen", r, c_lat, 1000, 500, peak=50)
            self.write("onnx", r, o_lat, 2000, None, logits=onnx_logits)
            self.write("libtorch", r, 100, 400, 100, peak=200)
            self.write("libtorch_mmap0", r, 200, 500, 250, peak=210)
        return table.load_runs(self.directory)

    def test_ratios_are_taken_within_rounds_then_summarised(self):
        runs = self.race()
        cnngen = table.per_round(runs, "cnngen", "lenet5", 1, "latency_b1_us")
        onnx = table.per_round(runs, "onnx", "lenet5", 1, "latency_b1_us")
        self.assertEqual(cnngen, {1: 10, 2: 20, 3: 10})
        # lower is better: speed ratio = peer time / CnnGen time = 3, 1.5, 4
        self.assertEqual(table.ratio_text(cnngen, onnx, lower=True), "3.00x [1.50-4.00]")
        infer_c = table.per_round(runs, "cnngen", "lenet5", 1, "infer_b256_ips")
        infer_o = table.per_round(runs, "onnx", "lenet5", 1, "infer_b256_ips")
        self.assertEqual(table.ratio_text(infer_c, infer_o, lower=False), "0.50x [0.50-0.50]")

    def test_ratios_against_libtorch_use_its_faster_variant_per_figure(self):
        runs = self.race()
        self.assertEqual(table.faster_libtorch(runs, "lenet5", 1, "latency_b1_us", lower=True), "libtorch")
        self.assertEqual(table.faster_libtorch(runs, "lenet5", 1, "train_b64_ips", lower=False), "libtorch_mmap0")
        header, rows, macs = table.table(runs, "lenet5", [1], {1: 218, 2: 290})
        train = next(r for r in rows if r[0] == "train step, batch 64")
        self.assertEqual(train[header.index("CnnGen/LibTorch (faster)")], "2.00x [2.00-2.00] (mmap0)")
        self.assertEqual(train[header.index("ONNX Runtime")], "-")
        # 500 images/s x 3 passes x 2 FLOPs x 1000 MACs = 3 MFLOP/s
        self.assertEqual(train[header.index("CnnGen GFLOP/s")], "0.0")
        memory = next(r for r in rows if r[0].startswith("train peak RSS"))
        self.assertEqual(memory[header.index("CnnGen")], "50.0")
        self.assertEqual(memory[header.index("LibTorch")], "200")

    def test_the_check_passes_within_the_limit_and_fails_beyond_it(self):
        line, ok = table.check_line(self.race(onnx_logits=[1.0, -2.0, 0.5 + 1e-4]), "lenet5", {"torch": "1.13", "logits": {"lenet5": self.LOGITS}})
        self.assertTrue(ok, line)
        self.assertIn("ONNX Runtime 5.0e-05", line)
        line, ok = table.check_line(self.race(onnx_logits=[1.0, -2.0, 0.5 + 4e-4]), "lenet5", {"torch": "1.13", "logits": {"lenet5": self.LOGITS}})
        self.assertFalse(ok)
        self.assertIn("ONNX Runtime 2.0e-04", line)
        self.assertIn("FAILED", line)

    def test_a_logit_that_is_not_a_number_fails_the_check(self):
        # The race writes a logit that is not finite as null.
        line, ok = table.check_line(self.race(onnx_logits=[1.0, None, 0.5]), "lenet5", {"torch": "1.13", "logits": {"lenet5": self.LOGITS}})
        self.assertFalse(ok)
        self.assertIn("ONNX Runtime inf", line)
        self.assertIn("FAILED", line)

    def test_a_first_call_off_fails_the_check_and_is_named_beside_the_second(self):
        runs = self.race()
        for key, run in runs.items():
            run["check_logits_again"] = list(run["check_logits"])
            if key[0] == "onnx":
                run["check_logits"] = [1.0, -2.0, 0.9]
        line, ok = table.check_line(runs, "lenet5", {"torch": "1.13", "logits": {"lenet5": self.LOGITS}})
        self.assertFalse(ok)
        self.assertIn("ONNX Runtime 2.0e-01 on its first call, 0.0e+00 on its second", line)
        self.assertIn("FAILED", line)
        runs[next(k for k in runs if k[0] == "cnngen")]["check_logits_again"] = [1.0, -2.0, 0.9]
        line, ok = table.check_line(runs, "lenet5", {"torch": "1.13", "logits": {"lenet5": self.LOGITS}})
        self.assertFalse(ok)
        self.assertIn("CnnGen 2.0e-01", line)

    def test_a_failed_check_makes_the_summary_exit_with_3(self):
        self.race(onnx_logits=[1.0, -2.0, 0.6])
        with contextlib.redirect_stdout(io.StringIO()) as out:
            self.addCleanup(setattr, sys, "argv", sys.argv)
            sys.argv = ["engine_race_table.py", self.directory, "218", "290"]
            self.assertEqual(table.main(), 3)
        self.assertIn("| forward, 1 image", out.getvalue())

        self.assertNotIn("WARNING", out.getvalue())

    def test_a_busy_machine_is_flagged(self):
        self.race()
        with open(os.path.join(self.directory, "load_end"), "w") as f:
            f.write(f"{os.cpu_count() + 0.5:.2f} 1.00 1.00")
        with contextlib.redirect_stdout(io.StringIO()) as out:
            self.addCleanup(setattr, sys, "argv", sys.argv)
            sys.argv = ["engine_race_table.py", self.directory, "218", "290"]
            self.assertEqual(table.main(), 0)
        self.assertIn(f"WARNING: the machine was busy (load {os.cpu_count() + 0.5:.1f} on {os.cpu_count()} cores)", out.getvalue())


    def test_the_machine_is_named_when_the_race_recorded_it(self):
        self.race()
        code, out, _ = self.summary()
        self.assertEqual(code, 0)
        self.assertNotIn("Machine:", out)
        with open(os.path.join(self.directory, "machine"), "w") as f:
            f.write("AMD EPYC (CPU family 25, model 17), 2 logical CPUs\n")
        code, out, _ = self.summary()
        self.assertEqual(code, 0)
        self.assertIn("\nMachine: AMD EPYC (CPU family 25, model 17), 2 logical CPUs.\n", out)

    def inference_only_race(self):
        """resnet18 as the race runs it: batch 32, no training figures."""
        for r in (1, 2, 3):
            self.write("cnngen", r, 20_000, 40 * r, None, model="resnet18", batch=32)
            self.write("onnx", r, 10_000, 80, None, model="resnet18", batch=32)
            self.write("libtorch", r, 40_000, 20, None, model="resnet18", batch=32)
            self.write("libtorch_mmap0", r, 30_000, 10, None, model="resnet18", batch=32)

    def summary(self):
        with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()) as err:
            self.addCleanup(setattr, sys, "argv", sys.argv)
            sys.argv = ["engine_race_table.py", self.directory, "218", "290"]
            code = table.main()
        return code, out.getvalue(), err.getvalue()

    def test_each_rounds_image_on_two_threads_is_printed_beside_the_machines_state(self):
        # Two rounds on two threads; the race recorded the machine's state before round 1 only.
        for r, (c_lat, o_lat) in enumerate([(150, 200), (330, 300)], start=1):
            for engine, latency in (("cnngen", c_lat), ("onnx", o_lat), ("libtorch", 900), ("libtorch_mmap0", 800)):
                self.write(engine, r, latency, 1000, None, model="resnet18", batch=32, threads=2)
        with open(os.path.join(self.directory, "state_resnet18_r1.json"), "w") as f:
            json.dump({"kernel_us_by_cpu": [265.4, 420.6], "kernel_us_together": [370.2, 512.5], "own_write_us_per_mib": 11.6,
                       "write_after_other_read_us_per_mib": 169.2, "read_after_other_write_us_per_mib": 32.8}, f)
        code, out, _ = self.summary()
        self.assertEqual(code, 0)
        self.assertIn("One image on 2 threads by round, CnnGen against ONNX Runtime, and the machine just before", out)
        self.assertIn("\n  round 1: 150 against 200 us (1.33x); CPUs 265 / 421 us on one kernel alone, 370 / 512 both at once, "
                      "a write after the other core's read 169 us per MiB (its own lines 12)\n", out)
        self.assertIn("\n  round 2: 330 against 300 us (0.91x)\n", out)

    def test_a_state_without_cross_core_samples_prints_dashes_for_them(self):
        # No sample had the pool's worker on the other side (the costs are null), and the CPUs could not be pinned.
        for engine, latency in (("cnngen", 150), ("onnx", 200), ("libtorch", 900), ("libtorch_mmap0", 800)):
            self.write(engine, 1, latency, 1000, None, model="resnet18", batch=32, threads=2)
        with open(os.path.join(self.directory, "state_resnet18_r1.json"), "w") as f:
            json.dump({"kernel_us_by_cpu": [], "kernel_us_together": [], "own_write_us_per_mib": None,
                       "write_after_other_read_us_per_mib": None, "read_after_other_write_us_per_mib": None}, f)
        code, out, _ = self.summary()
        self.assertEqual(code, 0)
        self.assertIn("\n  round 1: 150 against 200 us (1.33x); CPUs - us on one kernel alone, - both at once, a write after the "
                      "other core's read - us per MiB (its own lines -)\n", out)

    def test_a_state_recorded_before_kernels_ran_on_both_cpus_at_once_prints_a_dash_for_them(self):
        # A state file from a build before the kernel was timed on both CPUs at once has no such field.
        for engine, latency in (("cnngen", 150), ("onnx", 200), ("libtorch", 900), ("libtorch_mmap0", 800)):
            self.write(engine, 1, latency, 1000, None, model="resnet18", batch=32, threads=2)
        with open(os.path.join(self.directory, "state_resnet18_r1.json"), "w") as f:
            json.dump({"kernel_us_by_cpu": [265.4, 420.6], "own_write_us_per_mib": 11.6,
                       "write_after_other_read_us_per_mib": 169.2, "read_after_other_write_us_per_mib": 32.8}, f)
        code, out, _ = self.summary()
        self.assertEqual(code, 0)
        self.assertIn("; CPUs 265 / 421 us on one kernel alone, - both at once, a write after", out)

    def test_without_recorded_states_no_rounds_are_listed(self):
        self.race()
        code, out, _ = self.summary()
        self.assertEqual(code, 0)
        self.assertNotIn("by round", out)

    def test_the_batch_figure_is_named_after_the_batch_the_runs_used(self):
        self.inference_only_race()
        runs = table.load_runs(self.directory)
        self.assertEqual([f[1] for f in table.figures(runs, "resnet18")],
                         ["forward, 1 image", "forward, batch 32", "train step, batch 64"])
        header, rows, macs = table.table(runs, "resnet18", [1], {1: 218, 2: 290})
        batch = next(r for r in rows if r[0] == "forward, batch 32")
        self.assertEqual(batch[header.index("CnnGen")], "80.0 [40.0-120]")
        # 80 / 80, 40 / 80, 120 / 80 within rounds; LibTorch's faster variant here is the plain one (20 img/s)
        self.assertEqual(batch[header.index("CnnGen/ORT")], "1.00x [0.50-1.50]")
        self.assertEqual(batch[header.index("CnnGen/LibTorch (faster)")], "4.00x [2.00-6.00] (plain)")
        # 80 images/s x 2 FLOPs x 1000 MACs = 160 kFLOP/s
        self.assertEqual(batch[header.index("CnnGen GFLOP/s")], "0.0")
        latency = next(r for r in rows if r[0] == "forward, 1 image")
        self.assertEqual(latency[header.index("CnnGen/LibTorch (faster)")], "1.50x [1.50-1.50] (mmap0)")

    def test_an_inference_only_network_prints_dashes_for_training_and_says_why(self):
        self.inference_only_race()
        runs = table.load_runs(self.directory)
        self.assertFalse(table.trains(runs, "resnet18"))
        header, rows, _ = table.table(runs, "resnet18", [1], {1: 218, 2: 290})
        for row in rows:
            if row[0].startswith("train"):
                self.assertEqual(row[2:6], ["-"] * 4, row)
        code, out, _ = self.summary()
        self.assertEqual(code, 0)
        self.assertIn("ResNet-18 (3x224x224), inference only: 1,000 MACs per image forward", out)
        self.assertIn("Training is not raced for this network (inference only): its training rows print -.", out)
        self.assertIn("| forward, batch 32 ", out)

    def test_a_network_that_trains_keeps_its_training_title(self):
        self.race()
        runs = table.load_runs(self.directory)
        self.assertTrue(table.trains(runs, "lenet5"))
        code, out, _ = self.summary()
        self.assertIn("LeNet-5 (1x28x28): 1,000 MACs per image forward (0.00 MFLOP; a training image counts 3x)", out)
        self.assertNotIn("Training is not raced", out)
        self.assertNotIn("), inference only", out)

    def test_runs_with_different_batches_for_one_network_are_refused_in_one_line(self):
        self.inference_only_race()
        self.write("cnngen", 4, 20_000, 40, None, model="resnet18", batch=64)
        code, out, err = self.summary()
        self.assertEqual(code, 1)
        self.assertEqual(err.strip(), "error: resnet18: the runs must share one batch-inference figure "
                                      "(infer_b<batch>_ips), found infer_b32_ips, infer_b64_ips")


if __name__ == "__main__":
    unittest.main()
