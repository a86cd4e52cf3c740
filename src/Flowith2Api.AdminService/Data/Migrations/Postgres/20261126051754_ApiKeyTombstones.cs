using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Flowith2Api.AdminService.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ApiKeyTombstones : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "Deleted",
                table: "api_keys",
                type: "timestamp with time zone",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Deleted",
                table: "api_keys");
        }
    }
}
